"""Autoscaling for real: metrics-server reads the kubelet's resource metrics, the controller
manager's HPA controller reads them through the aggregation layer, and a bounded load burst
through the ingress scales the chart's native Deployment from 1 pod to at least 2."""

import time

from chain import deploy, running_and_ready, wait
from ingress import run_ingress
from paths import ROOT
from loopback import pages_of
from rolling_update import loading, totals

BURST_SECONDS = 150


def test_a_load_burst_scales_the_native_deployment_from_one_pod(cluster):
    autoscaling = {"enabled": True, "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}
    name, repo, release = deploy(cluster, "native", "burst", values={"autoscaling": autoscaling})
    app = release["spec"]["values"].get("appName", "hello-world")
    running_and_ready(cluster, name, 1)

    def hpa() -> dict:
        return cluster.get("horizontalpodautoscaler", app, namespace=name)["status"]

    # The HPA reads the pod's CPU once metrics-server has two samples of it (until then its
    # current metric has no `resource`).
    idle = wait("the HPA's first CPU reading", lambda: cpu(hpa()), timeout=120)

    proxy, port, host = run_ingress(cluster, name, app, cluster.dir / "burst" / "nginx")
    began = time.monotonic()
    try:
        with loading(port, pages_of(ROOT / "site" / "build"), 4, host) as clients:
            # Bounded: the burst ends when the HPA has scaled, or after BURST_SECONDS.
            scaled = wait(f"the HPA scaling {app}-deployment beyond 1 pod",
                          lambda: (hpa().get("desiredReplicas") or 0) >= 2 and hpa(), timeout=BURST_SECONDS)
            took = time.monotonic() - began
    finally:
        proxy.stop()
    busy = cpu(scaled)
    replicas = cluster.get("deployment", f"{app}-deployment", namespace=name)["spec"]["replicas"]
    counts = totals(clients)
    requests = counts["pages"] + counts["assets"]
    print(f"autoscaling: CPU {idle}% of the request at rest, {busy}% under {requests} requests in {took:.0f} s; "
          f"the HPA scaled {app}-deployment to {replicas} (target 50%)")
    assert replicas >= 2


def cpu(status: dict) -> str | None:
    """The HPA's current CPU utilisation (percent of the pods' request), as a string, or None."""
    for metric in status.get("currentMetrics") or []:
        if "resource" in metric:
            return str(metric["resource"]["current"].get("averageUtilization"))
    return None
