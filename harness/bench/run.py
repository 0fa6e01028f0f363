#!/usr/bin/env python3
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
and peak RSS. Prints a table and writes the docs page (site/docs/performance.md) and its chart.
`mise run bench` (mise-tasks/bench/_default) builds everything first and then calls this.
"""

import argparse
import datetime
import gzip
import os
import pathlib
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import brotli

from harness.nginx import nginx_command
from harness.ports import free_port
from harness.site import page_url
from harness.workspace import ROOT

SITE = ROOT / "site" / "build"
# Spin (and so SpinKube's containerd shim, which embeds Spin's runtime) runs wasmtime's pooling
# allocator with `linear_memory_keep_resident` at 2 MiB (`crates/core/src/lib.rs` in Spin, overridable
# by SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT): after each request the first 2 MiB of the
# instance's linear memory are reset in place instead of handed back to the kernel.
SPIN_KEEP_RESIDENT = 2 * 1024 * 1024
SPIN_POOLING = "Spin's pooling defaults"
# The host's ceiling, per host configuration: these run the small page only.
NATIVE_CEILING = "native ceiling"
WITH_METRICS = "runtime-shim, metrics on"
# Servers measured on the small page only, against another one.
CEILING_ONLY = {
    "empty component",
    f"component, {SPIN_POOLING}",
    f"empty component, {SPIN_POOLING}",
    NATIVE_CEILING,
    WITH_METRICS,
}
TEXT_SUFFIXES = {".html", ".css", ".js", ".json", ".xml", ".txt", ".svg", ".map"}


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], int]:
    """One GET over a fresh connection: (status, headers, bytes on the wire)."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = bytearray()
        while chunk := s.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    fields = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return status, fields, len(data)


class Server:
    def __init__(self, name, command, health="/", config=None):
        """`config`: (path, text) written with @PORT@ filled in before each start."""
        self.name, self.command, self.health, self.config = name, command, health, config
        self.process = None
        self.port = None

    def start(self) -> float:
        """Starts the server and returns the seconds until its first 200."""
        self.port = free_port()
        command = [part.replace("@PORT@", str(self.port)) for part in self.command]
        if self.config:
            path, text = self.config
            path.write_text(text.replace("@PORT@", str(self.port)))
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = started + 30
        while time.perf_counter() < deadline:
            try:
                if fetch(self.port, self.health)[0] == 200:
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.0005)
        raise RuntimeError(f"{self.name} did not answer within 30 s: {' '.join(command)}")

    def peak_rss_kib(self) -> int:
        """VmHWM of the process and its children (nginx's worker, for one)."""
        pids = [self.process.pid, *children(self.process.pid)]
        total = 0
        for pid in pids:
            try:
                status = pathlib.Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            total += int(match.group(1)) if match else 0
        return total

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def first_200_ms(server: Server) -> float:
    """The median of five cold starts' time to the first 200."""
    times = []
    for _ in range(5):
        times.append(server.start() * 1000)
        server.stop()
    return statistics.median(times)


def children(pid: int) -> list[int]:
    found = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def wrk(port, path, headers, args) -> dict:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    latency = {p: to_ms(v) for p, v in re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M)}
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "requests": requests,
        "p50": latency.get("50"),
        "p99": latency.get("99"),
        "errors": errors.group(1) if errors else "",
    }


def to_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


# The site's configuration for hello-world's servers (redirects, per-path headers): not served.
CONFIG_FILES = {"_redirects", "_headers"}


def site_files() -> list[str]:
    files = []
    for path in sorted(SITE.rglob("*")):
        rel = path.relative_to(SITE).as_posix()
        if path.is_file() and rel not in CONFIG_FILES and not any(part.startswith(".") for part in rel.split("/")):
            files.append(rel)
    return files


def is_moved_page(rel: str) -> bool:
    """A page the mkdocs-redirects plugin wrote: hello-world answers its URL with a 301."""
    return rel.endswith(".html") and 'http-equiv="refresh"' in (SITE / rel).read_text(errors="replace")


def crawl(port: int, files: list[str], compressed: bool) -> tuple[int, int]:
    """Bytes on the wire for every file, asked for by the URL a browser uses (a folder's page by
    the folder's URL): (all files, text files only). A moved page may answer 301 with its page."""
    headers = {"Accept-Encoding": "br, gzip"} if compressed else {}
    total = text = 0
    for rel in files:
        url = page_url(rel)
        status, _, size = fetch(port, url, headers)
        if status != 200 and not (status == 301 and is_moved_page(rel)):
            raise RuntimeError(f"crawl: {url} answered {status} on port {port}")
        total += size
        if pathlib.PurePath(rel).suffix in TEXT_SUFFIXES:
            text += size
    return total, text


def nginx_site(workdir: pathlib.Path) -> pathlib.Path:
    """A copy of the site with .br and .gz sidecars, as gzip_static/brotli_static expect."""
    root = workdir / "nginx-site"
    shutil.copytree(SITE, root)
    for rel in site_files():
        if pathlib.PurePath(rel).suffix in TEXT_SUFFIXES:
            data = (root / rel).read_bytes()
            (root / f"{rel}.gz").write_bytes(gzip.compress(data, 9, mtime=0))
            (root / f"{rel}.br").write_bytes(brotli.compress(data, quality=11))
    return root


def nginx_server(name: str, workdir: pathlib.Path, root: pathlib.Path) -> Server:
    """nginx as bench/nginx.conf sets it up, serving `root`, with its prefix in `workdir`."""
    workdir.mkdir(exist_ok=True)
    conf = (ROOT / "bench" / "nginx.conf").read_text()
    conf = conf.replace("@PREFIX@", str(workdir)).replace("@ROOT@", str(root))
    conf = conf.replace("@BROTLI_STATIC_MODULE@", "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
    # Written again with its port at each start (Server.config); nginx_command reads it now.
    (workdir / "nginx.conf").write_text(conf)
    return Server(name, nginx_command(workdir, workdir / "nginx.conf"), config=(workdir / "nginx.conf", conf))


def servers(args, workdir: pathlib.Path, small: str) -> list[Server]:
    wasmtime = [args.wasmtime, "serve", "-Scli", "-O", "pooling-allocator", "--addr", "127.0.0.1:@PORT@"]
    spin = [*wasmtime, "-O", f"pooling-memory-keep-resident={SPIN_KEEP_RESIDENT}"]
    return [
        Server("runtime-shim", [args.shim, "--listen", "127.0.0.1:@PORT@", "--log-level", "warn"], "/.healthz"),
        Server("component", [*wasmtime, args.component], "/.healthz"),
        Server("empty component", [*wasmtime, args.empty_component]),
        Server(f"component, {SPIN_POOLING}", [*spin, args.component], "/.healthz"),
        Server(f"empty component, {SPIN_POOLING}", [*spin, args.empty_component]),
        nginx_server("nginx", workdir, nginx_site(workdir)),
        Server(
            "python http.server",
            [sys.executable, "-m", "http.server", "@PORT@", "--bind", "127.0.0.1", "--directory", str(SITE)],
        ),
        # runtime-shim's ceiling: its stack (hyper, tokio) answering the small page's bytes from
        # memory, with none of runtime-shim's own work.
        Server(
            NATIVE_CEILING,
            [
                args.native_ceiling,
                "--listen",
                "127.0.0.1:@PORT@",
                "--page",
                str(SITE / (small.lstrip("/") + "index.html")),
            ],
        ),
        # The same runtime-shim recording its metrics, as the chart runs it.
        Server(
            WITH_METRICS,
            [args.shim, "--listen", "127.0.0.1:@PORT@", "--log-level", "warn", "--metrics-listen", "127.0.0.1:0"],
            "/.healthz",
        ),
    ]


# The large site is measured at the page nearest each of these sizes, and at its largest page.
LARGE_SITE_SIZES = [16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024]


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every CPU so far, from /proc/stat."""
    ticks = [int(v) for v in pathlib.Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def large_site(args, workdir: pathlib.Path) -> dict:
    """runtime-shim built from the large site against nginx serving its folder, uncompressed:
    req/s and the whole machine's CPU time per request (wrk's included: on loopback the kernel
    work of both ends lands on both), at a few page sizes."""
    root = pathlib.Path(args.large_site)
    files = [p for p in root.rglob("*") if p.is_file()]
    pages = sorted((p for p in files if p.suffix == ".html"), key=lambda p: p.stat().st_size)
    picked = [min(pages, key=lambda p: abs(p.stat().st_size - size)) for size in LARGE_SITE_SIZES] + [pages[-1]]
    paths = list(dict.fromkeys(page_url(p.relative_to(root).as_posix()) for p in picked))
    shim = Server(
        "runtime-shim", [args.large_site_shim, "--listen", "127.0.0.1:@PORT@", "--log-level", "warn"], "/.healthz"
    )
    nginx = nginx_server("nginx", workdir / "large-site-nginx", root)
    both = [shim, nginx]
    found = {
        "root": str(root),
        "files": len(files),
        "raw_bytes": sum(p.stat().st_size for p in files),
        "binary_bytes": os.path.getsize(args.large_site_shim),
        "sizes": {},
        "runs": {},
        "first_200_ms": {},
        "peak_rss_kib": {},
    }
    try:
        for server in both:
            found["first_200_ms"][server.name] = first_200_ms(server)
        for server in both:
            server.start()
        for path in paths:
            answers = {server.name: fetch(server.port, path) for server in both}
            for name, (status, _, _) in answers.items():
                if status != 200:
                    raise RuntimeError(f"large site: {path} answered {status} from {name}")
            found["sizes"][path] = int(answers["runtime-shim"][1]["content-length"])
        ticks_per_second = os.sysconf("SC_CLK_TCK")
        for round_number in range(args.rounds):
            for path in paths:
                for server in both if round_number % 2 == 0 else both[::-1]:
                    time.sleep(args.pause)
                    busy, _ = machine_ticks()
                    result = wrk(server.port, path, {}, args)
                    result["cpu_us"] = (machine_ticks()[0] - busy) / ticks_per_second / result["requests"] * 1e6
                    found["runs"].setdefault((server.name, path), []).append(result)
                    print(
                        f"round {round_number + 1}: large site {path}: {server.name}: {result['rps']:.0f} req/s",
                        file=sys.stderr,
                    )
        for server in both:
            found["peak_rss_kib"][server.name] = server.peak_rss_kib()
    finally:
        for server in both:
            server.stop()
    return found


def render_large_site(found, args) -> str:
    out = ["", "### A large third-party site, uncompressed", ""]
    out.append(
        f"`{found['root']}`: {found['files']:,} files, {found['raw_bytes']:,} bytes, built into a "
        f"{found['binary_bytes'] / 1e6:.1f} MB runtime-shim. nginx serves the same folder with sendfile. "
        "Each page is asked for without `Accept-Encoding`, so both send its bytes as they are: runtime-shim "
        "sends bodies from 128 KiB to 1 MiB from its own executable with sendfile, like nginx, and the "
        "others from memory. CPU time is the whole machine's per request, wrk's included (on loopback both "
        "ends' kernel work is shared between them); medians of the rounds:"
    )
    out.append("")
    out.append("| page | bytes | runtime-shim | nginx | runtime-shim ÷ nginx | CPU per request, runtime-shim / nginx |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for path, size in found["sizes"].items():
        shim, nginx = found["runs"][("runtime-shim", path)], found["runs"][("nginx", path)]
        ratio = statistics.median(s["rps"] / n["rps"] for s, n in zip(shim, nginx, strict=False))
        rps = [statistics.median(r["rps"] for r in runs) for runs in (shim, nginx)]
        cpu = [statistics.median(r["cpu_us"] for r in runs) for runs in (shim, nginx)]
        out.append(
            f"| `{path}` | {size:,} | {rps[0]:,.0f} | {rps[1]:,.0f} | **{ratio:.2f}×** | {cpu[0]:,.0f} / {cpu[1]:,.0f} µs |"
        )
    out.append("")
    out.append(
        "First 200 after start (median of 5): runtime-shim "
        f"{found['first_200_ms']['runtime-shim']:.1f} ms, nginx {found['first_200_ms']['nginx']:.1f} ms. "
        f"Peak RSS: runtime-shim {found['peak_rss_kib']['runtime-shim'] / 1024:.1f} MiB, "
        f"nginx {found['peak_rss_kib']['nginx'] / 1024:.1f} MiB (master and worker)."
    )
    return "\n".join(out)


def smallest_page(files: list[str]) -> str:
    pages = [f for f in files if f.endswith("index.html") and not is_moved_page(f)]
    best = min(pages, key=lambda f: (SITE / f).stat().st_size)
    return page_url(best)


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

    files = site_files()
    small = smallest_page(files)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="hello-world-bench-"))
    workdir.chmod(0o755)  # nginx's workers run as an unprivileged user and must read the site
    all_servers = servers(args, workdir, small)
    by_name = {s.name: s for s in all_servers}
    results: dict[tuple[str, str], list[dict]] = {}
    found = None
    facts: dict[str, dict] = {name: {} for name in by_name}

    try:
        # Start-up: five cold starts each, median.
        for server in all_servers:
            facts[server.name]["first_200_ms"] = first_200_ms(server)
            print(f"first 200: {server.name}: {facts[server.name]['first_200_ms']:.1f} ms", file=sys.stderr)

        for server in all_servers:
            server.start()

        # Conditional headers come from each server's own validators.
        def revalidation(server):
            _, fields, _ = fetch(server.port, "/")
            return {
                k: v
                for k, v in {
                    "If-None-Match": fields.get("etag"),
                    "If-Modified-Since": fields.get("last-modified"),
                }.items()
                if v
            }

        cases = [
            ("small page", small, lambda s: {}),
            ("search index, br", "/search/search_index.json", lambda s: {"Accept-Encoding": "br, gzip"}),
            ("missing page (404)", "/no-such-page/", lambda s: {}),
            ("revalidation (304)", "/", revalidation),
        ]
        for name, server in by_name.items():
            if name in CEILING_ONLY:
                continue
            for case, path, headers in cases:
                status = fetch(server.port, path, headers(server))[0]
                facts[name][f"status:{case}"] = status

        for round_number in range(args.rounds):
            # Rotate the order each round, so no server always follows the same neighbour.
            order = all_servers[round_number % len(all_servers) :] + all_servers[: round_number % len(all_servers)]
            for case, path, headers in cases:
                for server in order:
                    if server.name in CEILING_ONLY and case != "small page":
                        continue
                    time.sleep(args.pause)  # let the previous server's backlog drain
                    result = wrk(server.port, path, headers(server), args)
                    results.setdefault((server.name, case), []).append(result)
                    print(
                        f"round {round_number + 1}: {case}: {server.name}: {result['rps']:.0f} req/s", file=sys.stderr
                    )

        for server in all_servers:
            facts[server.name]["peak_rss_kib"] = server.peak_rss_kib()
            if server.name not in CEILING_ONLY:
                facts[server.name]["crawl_identity"] = crawl(server.port, files, False)
                facts[server.name]["crawl_compressed"] = crawl(server.port, files, True)
        for server in all_servers:
            server.stop()
        found = large_site(args, workdir) if args.large_site else None
    finally:
        for server in all_servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    summary = summarize(results)
    # The component against the empty one, round by round: both measured in the same round, so
    # the machine's drift between rounds does not enter the ratio; the median of the rounds.
    ceiling = {
        suffix: statistics.median(
            c["rps"] / e["rps"]
            for c, e in zip(
                results[(f"component{suffix}", "small page")],
                results[(f"empty component{suffix}", "small page")],
                strict=False,
            )
        )
        for suffix in ("", f", {SPIN_POOLING}")
    }
    # runtime-shim against its ceiling, against nginx, and with metrics against without, the same way.
    ceiling[WITH_METRICS] = statistics.median(
        m["rps"] / s["rps"]
        for m, s in zip(results[(WITH_METRICS, "small page")], results[("runtime-shim", "small page")], strict=False)
    )
    for name in (NATIVE_CEILING, "nginx"):
        ceiling[name] = statistics.median(
            s["rps"] / c["rps"]
            for s, c in zip(results[("runtime-shim", "small page")], results[(name, "small page")], strict=False)
        )
    raw_text = sum((SITE / f).stat().st_size for f in files if pathlib.PurePath(f).suffix in TEXT_SUFFIXES)
    report = render(summary, facts, cases, args, small, raw_text, len(files), ceiling)
    if found:
        report += "\n" + render_large_site(found, args)
    print(report)
    write_page(pathlib.Path(args.page), report, summary, cases)


def summarize(results):
    summary = {}
    for key, runs in results.items():
        summary[key] = {
            "rps": statistics.median(r["rps"] for r in runs),
            "p50": statistics.median(r["p50"] for r in runs),
            "p99": statistics.median(r["p99"] for r in runs),
            "errors": "; ".join(sorted({r["errors"] for r in runs if r["errors"]})),
        }
    return summary


def machine() -> str:
    cpu = "unknown CPU"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = pathlib.Path("/proc/meminfo").read_text().split()[1]
    return f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GiB, Linux {platform.release()}"


def render(summary, facts, cases, args, small, raw_text, file_count, ceiling) -> str:
    names = ["runtime-shim", "component", "nginx", "python http.server"]
    out = []
    out.append(f"Measured {datetime.date.today().isoformat()} on {machine()}.")
    out.append(
        f"wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per run, "
        f"{args.rounds} rounds with the servers interleaved (order rotated each round); medians. "
        f"The small page is `{small}`."
    )
    out.append("")
    out.append("### Requests per second")
    out.append("")
    out.append("| case | " + " | ".join(names) + " | runtime-shim ÷ nginx | runtime-shim ÷ python |")
    out.append("| --- | " + " | ".join("---:" for _ in names) + " | ---: | ---: |")
    for case, _, _ in cases:
        row = [f"{summary[(n, case)]['rps']:,.0f}" for n in names]
        shim, nginx, python = (summary[(n, case)]["rps"] for n in ("runtime-shim", "nginx", "python http.server"))
        out.append(f"| {case} | " + " | ".join(row) + f" | {shim / nginx:.2f}× | {shim / python:.1f}× |")
    out.append("")
    out.append("### Latency, p50 / p99 (ms)")
    out.append("")
    out.append("| case | " + " | ".join(names) + " |")
    out.append("| --- | " + " | ".join("---:" for _ in names) + " |")
    for case, _, _ in cases:
        cells = [f"{summary[(n, case)]['p50']:.2f} / {summary[(n, case)]['p99']:.2f}" for n in names]
        out.append(f"| {case} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("### The component against the host's ceiling")
    out.append("")
    out.append(
        "The small page from the docs component and from a component that returns 12 fixed "
        "bytes, under the same host, in two configurations of wasmtime's pooling allocator. "
        "Requests per second are medians over the rounds; the ratio is the median of the "
        "rounds' ratios, each of two runs in the same round:"
    )
    out.append("")
    out.append("| host configuration | component | empty component | component ÷ empty |")
    out.append("| --- | ---: | ---: | ---: |")
    for label, suffix in [
        ("`wasmtime serve`, wasmtime's defaults", ""),
        (f"{SPIN_POOLING} (2 MiB kept resident)", f", {SPIN_POOLING}"),
    ]:
        component = summary[(f"component{suffix}", "small page")]["rps"]
        empty = summary[(f"empty component{suffix}", "small page")]["rps"]
        out.append(f"| {label} | {component:,.0f} | {empty:,.0f} | **{ceiling[suffix]:.2f}×** |")
    out.append("")
    out.append("### runtime-shim against its ceiling")
    out.append("")
    out.append(
        "The small page from runtime-shim and from the native ceiling, a server on the same stack "
        "(hyper 1, tokio, one connection task each) that answers every request with the page's "
        "bytes from memory (`bench/native-ceiling`). The ratios are medians of the rounds' ratios:"
    )
    out.append("")
    out.append("| runtime-shim | native ceiling | nginx | runtime-shim ÷ ceiling | runtime-shim ÷ nginx |")
    out.append("| ---: | ---: | ---: | ---: | ---: |")
    shim, native, nginx = (summary[(n, "small page")]["rps"] for n in ("runtime-shim", NATIVE_CEILING, "nginx"))
    out.append(
        f"| {shim:,.0f} | {native:,.0f} | {nginx:,.0f} | **{ceiling[NATIVE_CEILING]:.2f}×** | {ceiling['nginx']:.2f}× |"
    )
    out.append("")
    out.append("### The cost of metrics")
    out.append("")
    out.append(
        "The small page from runtime-shim as the chart runs it, recording its Prometheus metrics "
        "(`--metrics-listen`, see [Operations](operations.md)), and without. The ratio is the median "
        "of the rounds' ratios:"
    )
    out.append("")
    out.append("| without metrics | with metrics | with ÷ without |")
    out.append("| ---: | ---: | ---: |")
    metered = summary[(WITH_METRICS, "small page")]["rps"]
    out.append(f"| {shim:,.0f} | {metered:,.0f} | **{ceiling[WITH_METRICS]:.2f}×** |")
    out.append("")
    out.append("### Bytes on the wire, start-up and memory")
    out.append("")
    out.append(
        f"Crawl: every one of the {file_count} files once, headers included. Text files are {raw_text:,} bytes raw."
    )
    out.append("")
    out.append(
        "| server | crawl, no compression | crawl, `br, gzip` | text files with `br, gzip` ÷ raw text | first 200 after start | peak RSS |"
    )
    out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in names + sorted(CEILING_ONLY):
        f = facts[name]
        if "crawl_identity" in f:
            identity, compressed = f["crawl_identity"][0], f["crawl_compressed"][0]
            ratio = f"{f['crawl_compressed'][1] / raw_text:.0%}"
            crawl_cells = f"{identity:,} | {compressed:,} | {ratio}"
        else:
            crawl_cells = "– | – | –"
        out.append(f"| {name} | {crawl_cells} | {f['first_200_ms']:.1f} ms | {f['peak_rss_kib'] / 1024:.1f} MiB |")
    errors = [f"{n} / {c}: {s['errors']}" for (n, c), s in summary.items() if s["errors"]]
    statuses = [
        f"{n}: {k.split(':', 1)[1]} → {v}" for n, f in facts.items() for k, v in f.items() if k.startswith("status:")
    ]
    out.append("")
    out.append("Status each server gave per case: " + "; ".join(statuses) + ".")
    if errors:
        out.append("")
        out.append("wrk socket errors: " + "; ".join(errors) + ".")
    return "\n".join(out)


def chart(summary, cases) -> str:
    """A grouped bar chart of req/s as SVG, with no dependencies."""
    names = ["runtime-shim", "component", "nginx", "python http.server"]
    colors = ["#3949ab", "#8e24aa", "#43a047", "#fb8c00"]
    width, height, left, top, bottom = 760, 320, 60, 40, 60
    plot_h = height - top - bottom
    peak = max(summary[(n, c)]["rps"] for n in names for c, _, _ in cases)
    group_w = (width - left - 20) / len(cases)
    bar_w = group_w / (len(names) + 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<text x="{left}" y="20" font-size="14">Requests per second (median of rounds; higher is better)</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 20}" y2="{top + plot_h}" stroke="#666"/>',
    ]
    for i, (case, _, _) in enumerate(cases):
        x0 = left + i * group_w
        for j, name in enumerate(names):
            value = summary[(name, case)]["rps"]
            h = plot_h * value / peak
            x = x0 + (j + 0.5) * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w * 0.9:.1f}" height="{h:.1f}" fill="{colors[j]}"><title>{name}: {value:,.0f} req/s</title></rect>'
            )
        parts.append(f'<text x="{x0 + group_w / 2:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{case}</text>')
    for j, name in enumerate(names):
        x = left + j * 170
        parts.append(f'<rect x="{x}" y="{height - 22}" width="12" height="12" fill="{colors[j]}"/>')
        parts.append(f'<text x="{x + 16}" y="{height - 12}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_page(page: pathlib.Path, report: str, summary, cases):
    svg = page.parent / "assets" / "performance.svg"
    svg.parent.mkdir(parents=True, exist_ok=True)
    svg.write_text(chart(summary, cases))
    intro = (ROOT / "bench" / "performance-intro.md").read_text()
    page.write_text(
        intro.rstrip()
        + "\n\n## Results\n\n![Requests per second by server and case](assets/performance.svg)\n\n"
        + report
        + "\n"
    )
    print(f"wrote {page} and {svg}", file=sys.stderr)


if __name__ == "__main__":
    main()
