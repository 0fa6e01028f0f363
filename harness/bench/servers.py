"""The benchmark's servers, each serving the same built site on loopback, and how one is
started, timed to its first 200 and measured for memory:

  runtime-shim            the native server (access log off, as nginx's is)
  component               the wasm component under `wasmtime serve -Scli`
  empty component         a component that answers a fixed 12 bytes: the host's own ceiling
  nginx                   Debian's nginx: sendfile, gzip_static + brotli_static sidecars
  python http.server      `python3 -m http.server`, what runtime-shim replaces
  native ceiling          runtime-shim's stack answering the small page from memory
  runtime-shim, metrics   runtime-shim recording Prometheus metrics (--metrics-listen): the cost
"""

import gzip
import os
import pathlib
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

import brotli

from harness import raw_http
from harness.nginx import nginx_command
from harness.ports import free_port
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

# The site's configuration for hello-world's servers (redirects, per-path headers): not served.
CONFIG_FILES = {"_redirects", "_headers"}


def site_files() -> list[str]:
    files = []
    for path in sorted(SITE.rglob("*")):
        rel = path.relative_to(SITE).as_posix()
        if path.is_file() and rel not in CONFIG_FILES and not any(part.startswith(".") for part in rel.split("/")):
            files.append(rel)
    return files


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
                if raw_http.get(self.port, self.health)[0] == 200:
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
