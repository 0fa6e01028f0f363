"""Load clients: threads that load every page of a site and all its assets over and over,
through whatever a connection factory reaches (a server, a proxy, the cluster's ingress
controller), counting pages, assets, asset 404s, 5xx and resets. The rolling-update test, the
e2e's rollouts, its metrics and its autoscaling load with them."""

import contextlib
import html.parser
import http.client
import threading
import time
import urllib.parse
from collections.abc import Callable


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
