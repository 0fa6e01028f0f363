"""Instructions per request, counted by valgrind's callgrind: unlike seconds, the count is the
same on a noisy machine, so a change to the hot path shows as a number.

Each server runs twice under callgrind: once for a few requests, once for many more, all on
one keep-alive connection; the difference between the two totals, divided by the difference in
requests, is the cost of one request, start-up excluded. Run `mise run bench` first (it builds the
release binaries), or pass the binaries:

  mise run bench:instructions -- [--shim PATH] [--component PATH] [--wasmtime PATH] [--path /build-release/]
"""

import argparse
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from harness.bench.servers import SPIN_KEEP_RESIDENT
from harness.ports import free_port, wait_listening
from harness.workspace import ROOT

FEW, MANY = 20, 220


def get(sock_file, sock, path: str, headers: str) -> int:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
    status = int(sock_file.readline().split()[1])
    length = 0
    while (line := sock_file.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    sock_file.read(length)
    return status


def total_instructions(command: list[str], path: str, headers: str, requests: int, stop: int) -> int:
    port = free_port()
    descriptor, out = tempfile.mkstemp(suffix=".callgrind")
    os.close(descriptor)
    command = [part.replace("@PORT@", str(port)) for part in command]
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--smc-check=all-non-file", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # valgrind's start-up is slow: minutes for the component's host.
        wait_listening(port, process, timeout=300, interval=0.2)
    except RuntimeError as error:
        raise RuntimeError(f"{command[0]} did not start under valgrind: {error}") from None
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    with sock, sock.makefile("rb") as sock_file:
        for _ in range(requests):
            status = get(sock_file, sock, path, headers)
            assert status == 200, status
    process.send_signal(stop)
    process.wait(timeout=300)
    text = pathlib.Path(out).read_text(errors="replace")
    pathlib.Path(out).unlink()
    match = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if not match:
        raise RuntimeError(f"no instruction total in the callgrind output of {command[0]}")
    return int(match.group(1))


def per_request(command, path, headers, stop) -> float:
    few = total_instructions(command, path, headers, FEW, stop)
    many = total_instructions(command, path, headers, MANY, stop)
    return (many - few) / (MANY - FEW)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shim", default=str(ROOT / "target/release/runtime-shim"))
    parser.add_argument("--component", default=str(ROOT / "target/component/hello-world.wasm"))
    parser.add_argument("--empty-component", default=str(ROOT / "target/wasm32-wasip2/release/empty_component.wasm"))
    parser.add_argument("--wasmtime", default="wasmtime")
    parser.add_argument("--path", default="/build-release/")
    parser.add_argument("--only", choices=["native", "wasm"], help="measure one runtime")
    args = parser.parse_args()
    # The pooling allocator as hosts run it, in a pool small enough for valgrind's address space
    # (the default reserves 4 GiB per memory slot): the same limits for every component, so the
    # counts compare. Twice: with wasmtime's own default (every page of linear memory handed back
    # to the kernel after a request) and with Spin's (the first 2 MiB kept and reset in place).
    engine = ["-O", "pooling-allocator=y"]
    for option in (
        "memory-reservation=33554432",
        "memory-guard-size=65536",
        "pooling-max-memory-size=33554432",
        "pooling-total-memories=8",
        "pooling-total-tables=8",
        "pooling-total-stacks=8",
        "pooling-total-core-instances=8",
        "pooling-total-component-instances=8",
    ):
        engine += ["-O", option]
    hosts = [
        ("wasmtime serve", []),
        ("Spin's pooling defaults", ["-O", f"pooling-memory-keep-resident={SPIN_KEEP_RESIDENT}"]),
    ]
    precompiled = pathlib.Path(tempfile.mkdtemp(prefix="hello-world-instructions-"))

    def serve(component: str, host_options: list[str]) -> list[str]:
        """`wasmtime serve` on the component compiled ahead of time with the same engine
        options, so neither counted run includes compiling it (or a cache's state). Compiled
        under valgrind too: it offers fewer CPU features than the machine, and wasmtime refuses
        code compiled for features the CPU it runs on lacks."""
        options = engine + host_options
        compiled = precompiled / f"{len(list(precompiled.iterdir()))}.cwasm"
        subprocess.run(
            ["valgrind", "-q", "--tool=none", args.wasmtime, "compile", *options, component, "-o", str(compiled)],
            check=True,
        )
        return [
            args.wasmtime,
            "serve",
            "-Scli",
            "--allow-precompiled",
            "--addr",
            "127.0.0.1:@PORT@",
            *options,
            str(compiled),
        ]

    cases = []
    if args.only in (None, "native"):
        native = [args.shim, "--listen", "127.0.0.1:@PORT@", "--log-level", "warn"]
        cases += [
            ("runtime-shim", native, args.path, "", signal.SIGTERM),
            ("runtime-shim, br", native, args.path, "Accept-Encoding: br\r\n", signal.SIGTERM),
        ]
    if args.only in (None, "wasm"):
        for host, options in hosts:
            cases += [
                (f"component ({host})", serve(args.component, options), args.path, "", signal.SIGINT),
                (f"empty component ({host})", serve(args.empty_component, options), "/", "", signal.SIGINT),
            ]
    try:
        for name, command, path, headers, stop in cases:
            print(
                f"{name}: {per_request(command, path, headers, stop):,.0f} instructions per request ({path})",
                flush=True,
            )
    finally:
        shutil.rmtree(precompiled, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
