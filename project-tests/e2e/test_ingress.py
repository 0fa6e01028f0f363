"""The conformance suite's ingress target through the real request path: nginx configured from
the Ingress object, the Service's ClusterIP (kube-proxy's rules), and the pod on the node,
for both runtimes: runtime-shim under runc, and the component under containerd-shim-spin."""

import os
import subprocess

import pytest

from ingress import run_nginx
from paths import ROOT
from chain import deploy, running_and_ready


@pytest.mark.parametrize("runtime", ["native", "spin"])
def test_the_conformance_suite_passes_through_the_ingress(cluster, runtime):
    customer = f"edge-{runtime}"
    name, repo, release = deploy(cluster, runtime, customer, replicas=1)
    app = release["spec"]["values"].get("appName", "hello-world")
    ingress = cluster.get("ingress", app, namespace=name)
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = cluster.get("service", backend["name"], namespace=name)
    service_port = next(p for p in service["spec"]["ports"] if p["port"] == backend["port"]["number"])

    workdir = cluster.dir / customer
    workdir.mkdir()
    (pod,) = running_and_ready(cluster, name, 1, timeout=180)
    upstream = f"{service['spec']['clusterIP']}:{service_port['port']}"
    path = f"Ingress -> Service {upstream} (kube-proxy) -> {runtime} pod {pod['status']['podIP']}"
    proxy, port = run_nginx(ingress, upstream, workdir / "nginx")
    try:
        result = subprocess.run(
            ["cargo", "test", "--quiet", "-p", "conformance", "--", "ingress::"],
            cwd=ROOT, capture_output=True, text=True,
            env={**os.environ, "HELLO_WORLD_INGRESS": f"127.0.0.1:{port}",
                 "HELLO_WORLD_HOST": ingress["spec"]["rules"][0]["host"]},
        )
        summary = [line for line in result.stdout.splitlines() if line.startswith("test result")]
        print(f"conformance through {path}:", summary)
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        assert summary and " 0 ignored" in summary[-1], summary
    finally:
        proxy.stop()
