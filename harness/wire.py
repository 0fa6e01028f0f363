"""What a response costs on the wire, for the harnesses that compare codings by it."""

import socket
from urllib.parse import urlsplit


def brotli_on_the_wire(base: str, path: str) -> int:
    """Bytes of one GET of `path` from the server at `base` (`http://host:port`) with
    `Accept-Encoding: br`: status line, headers and body, as a browser without a dictionary
    would get them."""
    url = urlsplit(base)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAccept-Encoding: br\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(request)
        received = bytearray()
        while chunk := s.recv(65536):
            received += chunk
    return len(received)
