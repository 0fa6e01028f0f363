"""Autoscaling for real: metrics-server reads the kubelet's resource metrics, the controller
manager's HPA controller reads them through the aggregation layer, and a bounded load burst
through the ingress scales the app from 1 pod to at least 2: the chart's native Deployment, or
the Deployment spin-operator makes for the SpinApp, whose pods run under containerd-shim-spin.

On a cgroup v1 node the HPA cannot scale Spin pods: containerd-shim-spin reports its
containers' CPU from `cpu.stat` as cgroup v2 writes it (`usage_usec`; the `containerd-shim`
crate's collect_metrics, v0.8.0), and cgroup v1's `cpu.stat` has no such line (v1 counts CPU
time in `cpuacct.usage`). The kubelet therefore reports the container's CPU as 0 while its pod's
cgroup counts real time, metrics-server has no CPU for the pod, and the HPA no reading. There the
test shows that, from the kubelet's own figures, and skips the burst."""

import pathlib
import re
import time

import pytest

from harness.chain.deliver import deploy, running_and_ready, wait
from harness.load import loading, totals
from harness.loopback_cluster.ingress_controller import https, serving
from harness.loopback_cluster.node import NODE_NAME
from harness.site import pages_of
from harness.workspace import ROOT

BURST_SECONDS = 150


@pytest.mark.parametrize("runtime", ["native", "spin"])
def test_a_load_burst_scales_the_app_from_one_pod(cluster, runtime):
    autoscaling = {"enabled": True, "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}
    name, _repo, release = deploy(cluster, runtime, f"burst-{runtime}", values={"autoscaling": autoscaling})
    app = release["spec"]["values"].get("appName", "hello-world")
    deployment = f"{app}-{'spin' if runtime == 'spin' else 'deployment'}"
    (pod,) = running_and_ready(cluster, name, 1, timeout=180)
    if runtime == "spin" and not pathlib.Path("/sys/fs/cgroup/cgroup.controllers").exists():
        # The kubelet samples the pod's cgroup every few seconds: wait until it has counted time.
        def counted():
            figures = kubelet_cpu(cluster, pod["metadata"]["name"])
            return figures if figures[1] > 0 else None

        container, whole = wait("the kubelet counting the Spin pod's CPU", counted, timeout=60)
        print(
            f"autoscaling (spin) on cgroup v1: the kubelet reports the Spin container's CPU as {container} s "
            f"and its pod's as {whole} s"
        )
        assert container == 0 and whole > 0, (container, whole)
        pytest.skip(
            "cgroup v1: containerd-shim-spin reports its containers' CPU as 0 (cgroup v2's cpu.stat keys), "
            f"so the HPA has no reading (the kubelet: container {container} s, pod {whole} s)"
        )

    def hpa() -> dict:
        return cluster.get("horizontalpodautoscaler", app, namespace=name)["status"]

    # The HPA reads the pod's CPU once metrics-server has two samples of it (until then its
    # current metric has no `resource`).
    idle = wait("the HPA's first CPU reading", lambda: cpu(hpa()), timeout=120)

    host = serving(cluster, name, app)
    began = time.monotonic()
    with loading(lambda: https(cluster, host), pages_of(ROOT / "site" / "build"), 4, host) as clients:
        # Bounded: the burst ends when the HPA has scaled, or after BURST_SECONDS.
        scaled = wait(
            f"the HPA scaling {deployment} beyond 1 pod",
            lambda: (hpa().get("desiredReplicas") or 0) >= 2 and hpa(),
            timeout=BURST_SECONDS,
        )
        took = time.monotonic() - began
    busy = cpu(scaled)
    replicas = cluster.get("deployment", deployment, namespace=name)["spec"]["replicas"]
    counts = totals(clients)
    requests = counts["pages"] + counts["assets"]
    print(
        f"autoscaling ({runtime}): CPU {idle}% of the request at rest, {busy}% under {requests} requests in {took:.0f} s; "
        f"the HPA scaled {deployment} to {replicas} (target 50%)"
    )
    assert replicas >= 2


def kubelet_cpu(cluster, pod: str) -> tuple[float, float]:
    """The CPU seconds the kubelet reports for `pod`'s container and for the pod itself
    (its resource metrics, which metrics-server reads)."""
    text = cluster.kubectl("get", "--raw", f"/api/v1/nodes/{NODE_NAME}/proxy/metrics/resource").stdout

    def value(metric: str) -> float:
        found = re.search(rf'^{metric}{{[^}}]*pod="{pod}"[^}}]*}} (\S+)', text, re.MULTILINE)
        assert found, f"no {metric} for {pod} in the kubelet's resource metrics"
        return float(found[1])

    return value("container_cpu_usage_seconds_total"), value("pod_cpu_usage_seconds_total")


def cpu(status: dict) -> str | None:
    """The HPA's current CPU utilisation (percent of the pods' request), as a string, or None."""
    for metric in status.get("currentMetrics") or []:
        if "resource" in metric:
            return str(metric["resource"]["current"].get("averageUtilization"))
    return None
