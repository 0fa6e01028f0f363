"""Free loopback ports, and waiting until a started server listens on one."""

import socket
import subprocess
import time


def free_port() -> int:
    """A port nothing listens on now, for a server about to start."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(
    port: int, process: subprocess.Popen | None = None, timeout: float = 60, interval: float = 0.1
) -> float:
    """Waits until 127.0.0.1:`port` accepts connections and returns the seconds it took. Fails
    at once if `process` (the server) has exited, and after `timeout` seconds."""
    started = time.perf_counter()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return time.perf_counter() - started
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{' '.join(map(str, process.args))}: exited with {process.returncode}") from None
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s") from None
            time.sleep(interval)
