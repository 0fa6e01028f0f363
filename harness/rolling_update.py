"""Version skew across a rolling update, measured: two versions of the site whose stylesheets
and scripts differ, the old and the new server behind one nginx upstream, the traffic switched
from old to new (nginx reload, then the old server stopped with its signal), and clients loading
every page with all its assets the whole time. Prints the counts; fails on any asset 404, 5xx or
reset connection. `mise run test:rolling-update` builds the versions and runs it for runtime-shim
and for the component under `wasmtime serve`.

  python -m harness.rolling_update versions SITE OUT        write OUT/old and OUT/new from the built SITE
  python -m harness.rolling_update run --name N --old CMD --new CMD [--stop SIGTERM]
      CMD is a server command with @PORT@ for its port, e.g. "target/old-shim --listen 127.0.0.1:@PORT@"
"""

import argparse
import base64
import contextlib
import hashlib
import html.parser
import http.client
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable

from harness.nginx import nginx_command
from harness.ports import free_port, wait_listening
from harness.site import pages_of

# The bundles that change between the two versions, by the fingerprint in their names.
BUNDLE = re.compile(r"^(assets/(?:stylesheets|javascripts)/[a-z]+)\.([0-9a-f]{8})(\.min\.(?:css|js))$")
# The fingerprint each version's bundles get, so a client can tell whose asset it asked for.
FINGERPRINTS = {"old": "0000aaaa", "new": "0000bbbb"}


def versions(site: pathlib.Path, out: pathlib.Path) -> None:
    """Two copies of the site that differ only in their fingerprinted stylesheets and scripts:
    each bundle gets a version-specific fingerprint and a line that says which version it is,
    and every page names its version's bundles."""
    for version, fingerprint in FINGERPRINTS.items():
        root = out / version
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(site, root)
        renames = {}
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            match = BUNDLE.match(rel)
            if not match:
                continue
            renamed = f"{match[1]}.{fingerprint}{match[3]}"
            comment = f"\n/* hello-world rolling-update test: {version} */\n"
            path.rename(root / renamed)
            with open(root / renamed, "a") as bundle:
                bundle.write(comment)
            renames[rel.rsplit("/", 1)[1]] = renamed.rsplit("/", 1)[1]
        if not renames:
            sys.exit(f"{site}: no fingerprinted bundles under assets/ to vary")
        for page in root.rglob("*.html"):
            text = page.read_text()
            for old_name, new_name in renames.items():
                text = text.replace(old_name, new_name)
            page.write_text(text)
        print(f"{version}: {root} ({', '.join(sorted(renames.values()))})")


class Assets(html.parser.HTMLParser):
    """The same-site stylesheets, scripts and images a page loads."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        url = None
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "").split():
            url = attrs.get("href")
        elif tag in ("script", "img"):
            url = attrs.get("src")
        if not url:
            return
        absolute = urllib.parse.urljoin("http://site" + self.page_url, url)
        parsed = urllib.parse.urlsplit(absolute)
        if parsed.netloc == "site" and parsed.path not in self.found:
            self.found.append(parsed.path)


def plain(port: int) -> Callable[[], http.client.HTTPConnection]:
    """New HTTP connections to 127.0.0.1:`port`."""
    return lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=10)


class Client(threading.Thread):
    """Loads every page and all its assets through the proxy, over and over, on one keep-alive
    connection (a new one from `connect`: plain HTTP, or HTTPS through the cluster's ingress
    controller), retrying once on a fresh connection when a kept-alive one was closed (as
    browsers do); only a fresh connection that fails counts as a reset."""

    def __init__(
        self,
        connect: Callable[[], http.client.HTTPConnection],
        pages: list[str],
        stop: threading.Event,
        host: str | None = None,
    ):
        super().__init__(daemon=True)
        self.connect, self.pages, self.stop = connect, pages, stop
        self.headers = {"Accept-Encoding": "identity", **({"Host": host} if host else {})}
        self.counts = {"pages": 0, "assets": 0, "asset 404s": 0, "5xx": 0, "resets": 0}
        self.failures: list[str] = []
        self.missing: list[tuple[float, str]] = []  # (time.monotonic(), asset) of each asset 404
        self.connection = None

    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = self.connect()
            try:
                self.connection.request("GET", path, headers=self.headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (TimeoutError, ConnectionError, http.client.HTTPException) as error:
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    self.counts["resets"] += 1
                    self.failures.append(f"{path}: {error!r}")
        return 0, b""

    def run(self):
        while not self.stop.is_set():
            for page in self.pages:
                status, body = self.get(page)
                self.counts["pages"] += 1
                if status >= 500:
                    self.counts["5xx"] += 1
                    self.failures.append(f"{page}: {status}")
                parser = Assets(page)
                parser.feed(body.decode("utf-8", "replace"))
                for asset in parser.found:
                    status, _ = self.get(asset)
                    self.counts["assets"] += 1
                    if status == 404:
                        self.counts["asset 404s"] += 1
                        self.missing.append((time.monotonic(), asset))
                        self.failures.append(f"{asset} (from {page}): 404")
                    elif status >= 500:
                        self.counts["5xx"] += 1
                        self.failures.append(f"{asset}: {status}")
                if self.stop.is_set():
                    break


@contextlib.contextmanager
def loading(connect: Callable[[], http.client.HTTPConnection], pages: list[str], count: int, host: str | None = None):
    """`count` Clients loading `pages` through the proxy that `connect` reaches while the block
    runs; they stop, and are waited for, when it ends."""
    stop = threading.Event()
    clients = [Client(connect, pages, stop, host) for _ in range(count)]
    for client in clients:
        client.start()
    try:
        yield clients
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)


def totals(clients: list[Client]) -> dict[str, int]:
    """The clients' counts, summed."""
    return {key: sum(c.counts[key] for c in clients) for key in clients[0].counts}


def start(command: str, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        shlex.split(command.replace("@PORT@", str(port))), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_listening(port, process)
    except RuntimeError as error:
        sys.exit(f"{command}: {error}")
    return process


NGINX_CONF = """
worker_processes 1;
error_log {workdir}/error.log warn;
pid {workdir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  access_log off;
  upstream site {{ server 127.0.0.1:{upstream}; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://site;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


def nginx(workdir: pathlib.Path, port: int, upstream: int, reload: bool = False):
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workdir=workdir, port=port, upstream=upstream))
    if reload:
        subprocess.run(nginx_command(workdir, conf, "-s", "reload"), check=True)
        return None
    return subprocess.Popen(nginx_command(workdir, conf))


def delta(port: int, site: pathlib.Path, old_asset: str, workdir: pathlib.Path) -> tuple[int, int]:
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


def run(args) -> int:
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="hello-world-rolling-"))
    workdir.chmod(0o755)
    old_port, new_port, proxy_port = free_port(), free_port(), free_port()
    pages = pages_of(pathlib.Path(args.site))
    old = start(args.old, old_port)
    proxy = nginx(workdir, proxy_port, old_port)
    new = None
    straddle = {"checked": 0, "failed": []}
    deltas = []
    try:
        try:
            wait_listening(proxy_port, proxy, timeout=10)
        except RuntimeError as error:
            sys.exit(f"nginx did not start: {error}")
        with loading(plain(proxy_port), pages, args.clients) as clients:
            # A page that the old version serves, whose assets are asked for after the switch.
            probe = Client(plain(proxy_port), [], threading.Event())
            _, body = probe.get("/")
            parser = Assets("/")
            parser.feed(body.decode("utf-8", "replace"))
            time.sleep(args.seconds)

            new = start(args.new, new_port)
            nginx(workdir, proxy_port, new_port, reload=True)
            time.sleep(1)  # nginx's old worker finishes what it has in hand, then exits
            for asset in parser.found:
                status, _ = probe.get(asset)
                straddle["checked"] += 1
                if status != 200:
                    straddle["failed"].append(f"{asset}: {status}")
                elif BUNDLE.match(asset.lstrip("/")):
                    try:
                        deltas.append(delta(proxy_port, pathlib.Path(args.site), asset, workdir))
                    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
                        straddle["failed"].append(f"delta: {error}")
            old.send_signal(getattr(signal, args.stop))
            old.wait(timeout=30)
            time.sleep(args.seconds)
    finally:
        for process in (proxy, new, old):
            if process and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    counts = totals(clients)
    failures = [f for c in clients for f in c.failures] + straddle["failed"]
    print(
        f"rolling update ({args.name}): {counts['pages']} pages and {counts['assets']} assets "
        f"loaded across the switch, {straddle['checked']} of the old version's assets asked for "
        f"after it; {counts['asset 404s']} asset 404s, {counts['5xx']} 5xx, "
        f"{counts['resets']} reset connections, {len(straddle['failed'])} old assets missing or deltas wrong; "
        f"{len(deltas)} bundles as deltas against the old version: {sum(d for d, _ in deltas)} bytes, "
        f"against {sum(b for _, b in deltas)} as brotli"
    )
    for failure in failures[:20]:
        print(f"  {failure}")
    if counts["pages"] == 0 or straddle["checked"] == 0 or not deltas:
        print("  nothing was loaded: the test measured nothing")
        return 1
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("versions")
    make.add_argument("site", type=pathlib.Path)
    make.add_argument("out", type=pathlib.Path)
    go = commands.add_parser("run")
    go.add_argument("--name", required=True)
    go.add_argument("--site", required=True, help="either version's site folder: the pages to load")
    go.add_argument("--old", required=True)
    go.add_argument("--new", required=True)
    go.add_argument("--stop", default="SIGTERM", help="the signal that stops the old server")
    go.add_argument("--clients", type=int, default=4)
    go.add_argument("--seconds", type=float, default=2.0, help="traffic before and after the switch")
    args = parser.parse_args()
    if args.command == "versions":
        versions(args.site, args.out)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
