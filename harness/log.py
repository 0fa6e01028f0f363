"""The harness's step line, as scripts/lib.sh's `log` prints it: bold, `==> `, on stderr."""

import sys


def step(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m", file=sys.stderr, flush=True)
