"""The pieces every part of the loopback cluster is made of: its tools (built by
scripts/lib.sh, named by environment variables that the tasks set), its processes (each
logging to a file in the cluster's folder, and stopped by PID), and waiting for a condition
while those processes are alive.
"""

import os
import pathlib
import subprocess
import time
import urllib.error
import urllib.request

TOOLS = {
    "kube-apiserver": "KUBE_APISERVER",
    "kube-controller-manager": "KUBE_CONTROLLER_MANAGER",
    "kube-scheduler": "KUBE_SCHEDULER",
    "kubelet": "KUBELET",
    "kube-proxy": "KUBE_PROXY",
    "containerd": "CONTAINERD",
    "runc": "RUNC",
    "kube-router": "KUBE_ROUTER",
    "containerd-shim-spin": "CONTAINERD_SHIM_SPIN",
    "spin-registry-push": "SPIN_REGISTRY_PUSH",
    "cni-plugins": "CNI_BIN",
    "registry": "REGISTRY",
    "crane": "CRANE",
    "cosign": "COSIGN",
    "image-verifier": "IMAGE_VERIFIER",
    "metrics-server": "METRICS_SERVER",
    "etcd": "ETCD",
    "flux-operator-controller": "FLUX_OPERATOR_CONTROLLER",
    "source-controller": "SOURCE_CONTROLLER",
    "helm-controller": "HELM_CONTROLLER",
    "spin-operator": "SPIN_OPERATOR",
    "cert-manager": "CERT_MANAGER",
    "traefik": "TRAEFIK",
    "kubectl": "KUBECTL",
    "helm": "HELM",
}


class StepFailed(Exception):
    """A step of the cluster's start-up failed; the message names the step."""


def tool(name: str) -> str:
    path = os.environ.get(TOOLS[name])
    if not path or not os.access(path, os.X_OK):
        raise StepFailed(f"{name}: not built; run `bin/mise run e2e` (it builds it) or set {TOOLS[name]}")
    return path


def tools_missing() -> list[str]:
    return [name for name, variable in TOOLS.items() if not os.environ.get(variable)]


def wait_until(what: str, check, timeout: float = 60, interval: float = 0.25, watch=(), blame=None):
    """Polls `check` until it returns something true, and returns that. Fails when a `watch`ed
    process has exited, or after `timeout` seconds, showing what `blame` printed."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        for process in watch:
            process.check_alive()
        if time.monotonic() > deadline:
            raise StepFailed(
                f"{what}: not so after {timeout:.0f} s" + (f"; {blame.name} printed:\n{blame.tail()}" if blame else "")
            )
        time.sleep(interval)


def http_status(url: str, host: str | None = None) -> int | None:
    """The status of GET `url` (with `Host: host`), or None if nothing answers."""
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


class Process:
    def __init__(self, name: str, command: list[str], workdir: pathlib.Path, env: dict | None = None):
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 (the process writes it until stop() closes it)
        self.process = subprocess.Popen(
            command,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )

    def tail(self, lines: int = 25) -> str:
        if not self.log.closed:
            self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def check_alive(self):
        if self.process.poll() is not None:
            raise StepFailed(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def run(command: list[str], step: str):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise StepFailed(f"{step}: {' '.join(command)}: {result.stderr.strip()}")
