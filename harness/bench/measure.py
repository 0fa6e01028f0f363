"""The benchmark's measurements: wrk's throughput and latency per server and case, bytes on
the wire for a crawl of every file, start-up, peak RSS, and a large third-party site against
nginx. `measure` returns them as plain data (harness.bench.report renders them; run.py saves
them as JSON first).
"""

import datetime
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

from harness import raw_http
from harness.bench.servers import (
    CEILING_ONLY,
    SITE,
    TEXT_SUFFIXES,
    Server,
    first_200_ms,
    nginx_server,
    servers,
    site_files,
)
from harness.site import page_url


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
        status, _, size = raw_http.get(port, url, headers)
        if status != 200 and not (status == 301 and is_moved_page(rel)):
            raise RuntimeError(f"crawl: {url} answered {status} on port {port}")
        total += size
        if pathlib.PurePath(rel).suffix in TEXT_SUFFIXES:
            text += size
    return total, text


def smallest_page(files: list[str]) -> str:
    pages = [f for f in files if f.endswith("index.html") and not is_moved_page(f)]
    best = min(pages, key=lambda f: (SITE / f).stat().st_size)
    return page_url(best)


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
        "runs": [],
        "first_200_ms": {},
        "peak_rss_kib": {},
    }
    try:
        for server in both:
            found["first_200_ms"][server.name] = first_200_ms(server)
        for server in both:
            server.start()
        for path in paths:
            answers = {server.name: raw_http.get(server.port, path) for server in both}
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
                    found["runs"].append({"server": server.name, "path": path, **result})
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


def machine() -> str:
    cpu = "unknown CPU"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = pathlib.Path("/proc/meminfo").read_text().split()[1]
    return f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GiB, Linux {platform.release()}"


def measure(args) -> dict:
    """Every measurement of the run, as JSON-able data: each wrk run (server, case, round and its
    figures), what else each server showed (statuses, crawls, start-up, peak RSS), the site's
    size, and the large site's runs."""
    files = site_files()
    small = smallest_page(files)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="hello-world-bench-"))
    workdir.chmod(0o755)  # nginx's workers run as an unprivileged user and must read the site
    all_servers = servers(args, workdir, small)
    by_name = {s.name: s for s in all_servers}
    runs: list[dict] = []
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
            _, fields, _ = raw_http.get(server.port, "/")
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
                status = raw_http.get(server.port, path, headers(server))[0]
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
                    runs.append({"server": server.name, "case": case, "round": round_number, **result})
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

    raw_text = sum((SITE / f).stat().st_size for f in files if pathlib.PurePath(f).suffix in TEXT_SUFFIXES)
    return {
        "measured": datetime.date.today().isoformat(),
        "machine": machine(),
        "settings": {key: getattr(args, key) for key in ("threads", "connections", "duration", "rounds")},
        "small": small,
        "files": len(files),
        "raw_text": raw_text,
        "cases": [case for case, _, _ in cases],
        "runs": runs,
        "facts": facts,
        "large_site": found,
    }
