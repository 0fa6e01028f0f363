"""The ways in, as a client on the internet reaches the docs, through the cluster's ingress
controller in a pod (Traefik, ingress_controller.py), for both runtimes: runtime-shim under
runc, and the component under containerd-shim-spin. One release serves two hosts:
- by the chart's Ingress: HTTPS with the certificate cert-manager's ingress-shim issued for it,
  HTTP redirected to HTTPS as ingress-nginx does;
- by the chart's HTTPRoute, attached to the platform's Gateway (its wildcard certificate).
The conformance suite's ingress target runs over HTTPS through each."""

import http.client
import os
import subprocess

import pytest

from harness.chain.deliver import deploy, running_and_ready
from harness.loopback_cluster.ingress_controller import http_route, https, routed, serving
from harness.workspace import ROOT


@pytest.mark.parametrize("runtime", ["native", "spin"])
def test_the_conformance_suite_passes_through_the_ingress_controller(cluster, runtime):
    customer = f"edge-{runtime}"
    name, _, release = deploy(cluster, runtime, customer, replicas=1, values=http_route(customer))
    (pod,) = running_and_ready(cluster, name, 1, timeout=180)
    app = release["spec"]["values"].get("appName", "hello-world")
    host = serving(cluster, name, app)

    connection = https(cluster, host)
    connection.connect()
    issuer = dict(pair[0] for pair in connection.sock.getpeercert()["issuer"])
    connection.close()
    print(f"{runtime}: https://{host}/ through Traefik in a pod: 200, certificate issued by {issuer['commonName']}")
    assert issuer["commonName"] == "loopback-ca"

    plain = http.client.HTTPConnection("127.0.0.1", cluster.ingress_ports[0], timeout=10)
    plain.request("GET", "/architecture/?q=1", headers={"Host": host})
    redirect = plain.getresponse()
    plain.close()
    print(f"{runtime}: http://{host}/architecture/?q=1: {redirect.status} to {redirect.getheader('Location')}")
    assert (redirect.status, redirect.getheader("Location")) == (308, f"https://{host}/architecture/?q=1")

    routed_host = routed(cluster, name, app)
    ways = {f"Ingress {host}": host, f"Gateway -> HTTPRoute {routed_host}": routed_host}
    for way, via in ways.items():
        result = subprocess.run(
            ["cargo", "test", "--quiet", "-p", "conformance", "--test", "http", "--", "ingress::"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "HELLO_WORLD_INGRESS": f"127.0.0.1:{cluster.ingress_ports[1]}",
                "HELLO_WORLD_INGRESS_CA": str(cluster.ca_file),
                "HELLO_WORLD_HOST": via,
            },
        )
        summary = [line for line in result.stdout.splitlines() if line.startswith("test result")]
        print(
            f"conformance through {way} -> Traefik pod -> {runtime} pod {pod['status']['podIP']}, over HTTPS:", summary
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        assert summary and " 0 ignored" in summary[-1], summary
