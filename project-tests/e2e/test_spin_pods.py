"""What only a Spin pod can do wrong: the request paths that reach the shim's own HTTP server
(Spin's HTTP trigger in containerd-shim-spin) before our component sees anything.

A CONNECT request's target is an authority (`example.com:443`, RFC 9110 §9.3.6), with no path.
Spin v3.6.3's HTTP trigger builds each routed request's URI with `Uri::from_parts(..).unwrap()`
(crates/trigger-http/src/server.rs, set_req_uri), which panics for it. Upstream's shim is built
with `panic = "abort"`, so one such request sent straight to a pod ended the shim and restarted
the pod; ours unwinds (tools/rust/spin/Cargo.toml), so only that connection closes. Through the
ingress controller, a CONNECT for another authority gets Traefik's own 404; one that names the
site's host is routed to the pod like any other method.
"""

import http.client

from harness.chain.deliver import deploy, running_and_ready
from harness.loopback_cluster.ingress_controller import https, serving
from harness.processes import http_status


def connect(connection: http.client.HTTPConnection, authority: str = "example.com:443") -> str:
    """Sends `CONNECT authority` on `connection`; returns the status line, or what happened."""
    try:
        connection.request("CONNECT", authority, headers={"Host": authority})
        response = connection.getresponse()
        return f"{response.status} {response.reason}"
    except (http.client.HTTPException, OSError) as error:
        return f"no response ({type(error).__name__})"
    finally:
        connection.close()


def test_a_connect_request_sent_straight_to_a_spin_pod_leaves_it_serving(cluster):
    name, _repo, release = deploy(cluster, "spin", "connect", replicas=1)
    app = release["spec"]["values"].get("appName", "hello-world")
    (pod,) = running_and_ready(cluster, name, 1, timeout=180)
    address = pod["status"]["podIP"]
    (before,) = pod["status"]["containerStatuses"]

    answers = [connect(http.client.HTTPConnection(address, 80, timeout=10)) for _ in range(3)]
    # The shim goes on serving: the next request is answered, and the kubelet restarted nothing.
    assert http_status(f"http://{address}/.healthz") == 200
    (pod,) = running_and_ready(cluster, name, 1)
    (status,) = pod["status"]["containerStatuses"]
    log = cluster.kubectl("logs", "-n", name, pod["metadata"]["name"]).stdout
    panics = [line for line in log.splitlines() if "panicked" in line]
    print(
        f"spin: CONNECT straight to pod {address}:80, 3 times: {answers}; the pod serves on with "
        f"{status['restartCount']} restarts; its log: {panics[:1] or 'no panic'}"
    )
    assert status["restartCount"] == before["restartCount"] and "running" in status["state"], status

    host = serving(cluster, name, app)
    through = {authority: connect(https(cluster, host), authority) for authority in ("example.com:443", f"{host}:443")}
    print(f"spin: CONNECT through the ingress controller: {through}")
    assert through["example.com:443"].startswith("404 ")
    assert through[f"{host}:443"].startswith("4"), through
