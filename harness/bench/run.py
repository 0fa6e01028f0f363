"""The benchmark: hello-world next to what users would run instead, in one run, on loopback.

Servers, all serving the same built site:
  runtime-shim            the native server (access log off, as nginx's is)
  component               the wasm component under `wasmtime serve -Scli`
  empty component         a component that answers a fixed 12 bytes: the host's own ceiling
  nginx                   Debian's nginx: sendfile, gzip_static + brotli_static sidecars
  python http.server      `python3 -m http.server`, what runtime-shim replaces
  runtime-shim, metrics   runtime-shim recording Prometheus metrics (--metrics-listen): the cost

wrk runs with fixed threads, connections and duration; the servers are interleaved within
each round, and the median over rounds is reported. With --large-site, a large third-party site
(Debian's Python 3.11 docs, as `mise run bench` passes it) is also served uncompressed by a
runtime-shim built from it and by nginx from its folder, at a few body sizes. Also measured: bytes on the wire for a
crawl of every file with and without compression, time from process start to the first 200,
and peak RSS. Saves the figures (target/bench/results.json), prints the report and writes the docs
page (site/docs/performance.md) and its chart from them: `python -m harness.bench.report`
redraws the page from that file alone. `mise run bench` (mise-tasks/bench/_default) builds
everything first and then calls this.
"""

import argparse
import json
import pathlib

from harness.bench.measure import measure
from harness.bench.report import RESULTS, write_page
from harness.workspace import ROOT


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shim", required=True)
    parser.add_argument("--component", required=True)
    parser.add_argument("--empty-component", required=True)
    parser.add_argument("--native-ceiling", required=True)
    parser.add_argument("--wasmtime", default="wasmtime")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between wrk runs")
    parser.add_argument("--page", default=str(ROOT / "site" / "docs" / "performance.md"))
    parser.add_argument("--large-site", help="a large third-party site's folder, also measured")
    parser.add_argument("--large-site-shim", help="runtime-shim built with SITE_DIR set to --large-site")
    args = parser.parse_args()
    results = measure(args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    print(write_page(pathlib.Path(args.page), results))


if __name__ == "__main__":
    main()
