"""The chart's Ingress through the ingress controller in a pod (Traefik, ingress_controller.py),
as a client on the internet reaches the docs: HTTPS with the certificate cert-manager's
ingress-shim issued for the Ingress, HTTP redirected to HTTPS as ingress-nginx does, the site
served from the pod. A request body that nobody reads never turns into a 5xx on the way in."""

import http.client

import pytest

from chain import deploy, running_and_ready
from ingress_controller import https, request, serving

BODY_SIZES = (64 * 1024, 1024 * 1024, 8 * 1024 * 1024)
TRIES = 4


@pytest.mark.parametrize("runtime", ["native", "spin"])
def test_the_controller_serves_the_ingress_over_https_with_its_certificate(cluster, runtime):
    name, _, release = deploy(cluster, runtime, f"door-{runtime}", replicas=1)
    running_and_ready(cluster, name, 1, timeout=180)
    host = serving(cluster, name, release["spec"]["values"].get("appName", "hello-world"))

    connection = https(cluster, host)
    connection.connect()
    issuer = dict(pair[0] for pair in connection.sock.getpeercert()["issuer"])
    connection.close()
    print(f"{runtime}: https://{host}/ through Traefik in a pod: 200, certificate issued by {issuer['commonName']}")
    assert issuer["commonName"] == "loopback-cluster-ca"

    plain = http.client.HTTPConnection("127.0.0.1", cluster.ingress_ports[0], timeout=10)
    plain.request("GET", "/architecture/?q=1", headers={"Host": host})
    redirect = plain.getresponse()
    plain.close()
    print(f"{runtime}: http://{host}/architecture/?q=1: {redirect.status} to {redirect.getheader('Location')}")
    assert (redirect.status, redirect.getheader("Location")) == (308, f"https://{host}/architecture/?q=1")

    def answer(path: str, method: str, body: bytes) -> int | str:
        try:
            return request(cluster, host, path, method, body)
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__  # a reset, a truncated answer: the client lost it

    answers = {}
    for method, path, expected in (("GET", "/", 200), ("HEAD", "/", 200), ("GET", "/nope", 404)):
        for size in BODY_SIZES:
            statuses = [answer(path, method, b"x" * size) for _ in range(TRIES)]
            answers[f"{method} {path} +{size} B"] = statuses
            assert statuses == [expected] * TRIES, (method, path, size, statuses)
    print(f"{runtime}: request bodies through the controller, {TRIES} tries each: {answers}")
