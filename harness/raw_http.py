"""HTTP/1.1 GETs on loopback as the harnesses measure them: one request on a connection of its
own (`Connection: close`), and what came back: the status, the header fields and every byte on
the wire, head included."""

import socket
from urllib.parse import urlsplit


def get(port: int, path: str, headers: dict[str, str] | None = None, host: str = "127.0.0.1") -> tuple[int, dict, int]:
    """GET `path` from 127.0.0.1:`port` with `Host: host`: (status, fields by lower-case name,
    bytes on the wire)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = bytearray()
        while chunk := s.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    fields = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return int(head[0].split()[1]), fields, len(data)


def brotli_on_the_wire(base: str, path: str) -> int:
    """Bytes of one GET of `path` from the server at `base` (`http://host:port` on loopback)
    with `Accept-Encoding: br`: status line, headers and body, as a browser without a
    dictionary would get them."""
    url = urlsplit(base)
    return get(url.port, path, {"Accept-Encoding": "br"}, host=url.netloc)[2]
