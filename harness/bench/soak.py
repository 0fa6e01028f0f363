"""Soak test (a benchmark, not a CI test): each runtime under wrk at high load for --minutes
(default 10) with a mix of pages, assets, compressed and conditional requests, 404s and
redirects (bench/soak.lua). Prints requests, errors (socket errors and 5xx), and RSS sampled
every 10 s, so a leak shows as a rising line. Run `mise run bench` first (it builds everything).

  mise run bench:soak -- [--minutes 10] [--connections 64]
"""

import argparse
import pathlib
import re
import subprocess
import threading

from harness.bench.servers import Server
from harness.workspace import ROOT


def rss_kib(pid: int) -> int:
    match = re.search(r"VmRSS:\s+(\d+) kB", pathlib.Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) if match else 0


def soak(server, minutes: float, connections: int) -> dict:
    server.start()
    samples = []
    done = threading.Event()

    def sample():
        while not done.wait(10):
            samples.append(rss_kib(server.process.pid))

    sampler = threading.Thread(target=sample)
    samples.append(rss_kib(server.process.pid))
    sampler.start()
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{int(minutes * 60)}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "soak.lua"),
            f"http://127.0.0.1:{server.port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    done.set()
    sampler.join()
    samples.append(rss_kib(server.process.pid))
    server.stop()
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "socket_errors": socket_errors.group(1) if socket_errors else "none",
        # 404s are part of the mix; wrk counts them with 4xx/5xx alike.
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "rss_mib": [round(s / 1024, 1) for s in samples],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--wasmtime", default="wasmtime")
    args = parser.parse_args()
    wasmtime = [args.wasmtime, "serve", "-Scli", "-O", "pooling-allocator", "--addr", "127.0.0.1:@PORT@"]
    servers = [
        Server(
            "runtime-shim",
            [str(ROOT / "target/release/runtime-shim"), "--listen", "127.0.0.1:@PORT@", "--log-level", "warn"],
            "/.healthz",
        ),
        Server("component", [*wasmtime, str(ROOT / "target/component/hello-world.wasm")], "/.healthz"),
    ]
    for server in servers:
        result = soak(server, args.minutes, args.connections)
        mix_404s = result["requests"] // 8  # one request in eight of the mix is a 404
        print(
            f"{server.name}: {result['requests']:,} requests in {args.minutes:g} min ({result['rps']:,.0f}/s); "
            f"socket errors: {result['socket_errors']}; non-2xx/3xx: {result['non_2xx_3xx']:,} (the mix has ~{mix_404s:,} 404s); "
            f"RSS MiB every 10 s: {result['rss_mib']}"
        )


if __name__ == "__main__":
    main()
