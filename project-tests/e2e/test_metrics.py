"""A native pod's metrics, scraped the way Prometheus does: through the `metrics` port of the
chart's Service (the ClusterIP, kube-proxy, the pod), parsed with the Prometheus project's own
Python parser. Requests made through the ingress show up in the counters, one for one."""

import urllib.request

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from harness.chain.deliver import deploy, running_and_ready
from harness.load import Client
from harness.loopback_cluster.ingress_controller import https, request, serving


def scrape(address: str) -> dict:
    """{(sample name, sorted labels): value} from the pod behind `address`, as OpenMetrics."""
    request = urllib.request.Request(
        f"http://{address}/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def requests(samples: dict, answered: str, status: str = "2xx", method: str = "GET") -> float:
    return samples[("http_requests_total", (("answered", answered), ("method", method), ("status", status)))]


def consistent_scrape(address: str) -> dict:
    """A scrape taken between requests (the kubelet probes each second): the histogram has
    counted each request the counters have."""
    for _ in range(5):
        samples = scrape(address)
        total = sum(v for (name, _), v in samples.items() if name == "http_requests_total")
        if samples[("http_request_duration_seconds_count", ())] == total:
            return samples
    raise AssertionError(f"histogram count {samples[('http_request_duration_seconds_count', ())]} != {total} requests")


def test_requests_through_the_ingress_show_in_the_metrics_scraped_through_the_service(cluster):
    name, _, release = deploy(cluster, "native", "metrics", replicas=1)
    app = release["spec"]["values"].get("appName", "hello-world")
    (pod,) = running_and_ready(cluster, name, 1)
    service = cluster.get("service", app, namespace=name)
    metrics_port = next(p for p in service["spec"]["ports"] if p["name"] == "metrics")
    address = f"{service['spec']['clusterIP']}:{metrics_port['port']}"
    host = serving(cluster, name, app)
    before = consistent_scrape(address)
    client = Client(lambda: https(cluster, host), [], None, host)
    pages = ["/", "/architecture/", "/chart/"]
    for page in pages:
        assert client.get(page)[0] == 200
    assert client.get("/no/such/page/")[0] == 404
    assert client.get("/search/search_index.json")[0] == 200
    # The metrics port is the pod's own: the Ingress host does not reach it.
    assert request(cluster, host, "/metrics") == 404
    after = consistent_scrape(address)

    assert requests(after, "page") - requests(before, "page") == len(pages)
    assert requests(after, "not_found", "4xx") - requests(before, "not_found", "4xx") == 2  # and /metrics
    assert requests(after, "asset") - requests(before, "asset") == 1
    assert requests(before, "health") >= 1, "the kubelet's readiness probes made the pod Ready"
    build = next(labels for (name, labels) in after if name == "runtime_shim_build_info")
    # The image the pod runs is tagged with the version it reports.
    assert pod["spec"]["containers"][0]["image"].endswith(f":{dict(build)['version']}")
    assert len(dict(build)["site_digest"]) == 16
    assert after[("process_resident_memory_bytes", ())] > 0
    print(
        f"metrics of pod {pod['metadata']['name']} scraped through Service {address}: "
        f"{int(sum(v for (n, _), v in after.items() if n == 'http_requests_total'))} requests counted, "
        f"RSS {after[('process_resident_memory_bytes', ())] / 2**20:.1f} MiB, site {dict(build)['site_digest']}"
    )
