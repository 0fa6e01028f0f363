"""A Kubernetes cluster as kubectl reaches it, by a kubeconfig: the loopback cluster, CI's k3d
cluster, or any other. The delivery chain (harness.chain) drives any of them through this."""

import json
import os
import pathlib
import subprocess

from harness.processes import StepFailed, wait_until


def release_of(registry: str, version: str) -> dict[str, str]:
    """The harness's inputs that name a release published to `registry` (images) and
    `registry`/charts (the chart), as `mise run push` publishes it."""
    return {
        "APP_IMAGE_REGISTRY": registry,
        "APP_IMAGE_VERSION": version,
        "APP_CHART_REGISTRY": f"{registry}/charts",
        "APP_CHART_VERSION": version,
    }


class ClusterAPI:
    """`kubectl()` and `get()` against the cluster of `kubeconfig`. `release` names the release
    published to the registry it pulls from; `issuer` is the spec its stand-in for the
    production ClusterIssuer gets (no ACME server answers a test cluster)."""

    def __init__(self, kubeconfig: pathlib.Path, issuer: dict, release: dict[str, str] | None = None):
        self.kubeconfig = kubeconfig
        self.issuer = issuer
        self.release = release or {}

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        # The kubectl lib.sh builds, at the cluster's version (KUBECTL), else the one on PATH.
        command = [os.environ.get("KUBECTL", "kubectl"), f"--kubeconfig={self.kubeconfig}", *args]
        result = subprocess.run(command, input=input, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise StepFailed(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result

    def get(
        self, kind: str, name: str | None = None, namespace: str | None = None, selector: str | None = None
    ) -> dict:
        args = ["get", kind] + ([name] if name else [])
        args += ["-n", namespace] if namespace else ["-A"] if not name else []
        args += ["-l", selector] if selector else []
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def wait_for(self, what: str, ready, component: str, timeout: float = 60):
        """Waits for `ready`; `component` is what would be to blame (the loopback cluster shows
        its log)."""
        wait_until(what, ready, timeout)

    def wait_for_certificate(self, name: str, namespace: str, timeout: float = 60):
        """Waits until cert-manager has issued the Certificate `name` (its Ready condition)."""

        def issued() -> bool:
            jsonpath = "jsonpath={.status.conditions[?(@.type=='Ready')].status}"
            return (
                self.kubectl("get", "certificate", name, "-n", namespace, "-o", jsonpath, check=False).stdout == "True"
            )

        self.wait_for(
            f"cert-manager: the certificate {namespace}/{name} Ready", issued, "cert-manager-controller", timeout
        )
