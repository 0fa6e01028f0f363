"""An RFC 9842 delta update, checked end to end: a browser that holds the old version of a
bundle asks for the new one with `Available-Dictionary`, and the answer must be `dcz` that the
reference zstd CLI restores, with the old version as its dictionary, to the new version's bytes."""

import base64
import hashlib
import http.client
import pathlib
import subprocess


def delta_update(port: int, site: pathlib.Path, old_asset: str, workdir: pathlib.Path) -> tuple[int, int]:
    """RFC 9842 delta update of one bundle: a browser that holds the old version (served here,
    carried for version skew, marked Use-As-Dictionary) asks for the new one with
    Available-Dictionary. The answer must be dcz that the reference zstd CLI restores, with the
    old version as its dictionary, to the new version's bytes. Returns (dcz bytes, brotli bytes)."""
    new_asset = old_asset.replace(".0000aaaa.", ".0000bbbb.")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", old_asset)
    old = connection.getresponse().read()
    digest = base64.b64encode(hashlib.sha256(old).digest()).decode()
    connection.request("GET", new_asset, headers={"Accept-Encoding": "br, dcz", "Available-Dictionary": f":{digest}:"})
    response = connection.getresponse()
    body = response.read()
    connection.request("GET", new_asset, headers={"Accept-Encoding": "br"})
    brotli = len(connection.getresponse().read())
    connection.close()
    if response.getheader("content-encoding") != "dcz":
        raise RuntimeError(
            f"{new_asset}: {response.getheader('content-encoding')}, not dcz, with the old version's hash"
        )
    dictionary, compressed = workdir / "dictionary", workdir / "delta.dcz"
    dictionary.write_bytes(old)
    compressed.write_bytes(body)
    restored = subprocess.run(
        ["zstd", "-q", "-d", "-c", "-D", str(dictionary), str(compressed)], capture_output=True, check=True
    ).stdout
    if restored != (site / new_asset.lstrip("/")).read_bytes():
        raise RuntimeError(f"{new_asset}: the delta restores to other bytes")
    return len(body), brotli
