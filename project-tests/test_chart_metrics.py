"""What the chart gives a platform team to watch: runtime-shim's metrics port, the Service port
Prometheus scrapes, a ServiceMonitor on request (validated against the Prometheus Operator's
CRD), the NetworkPolicy's rule for the monitoring namespace, the log format, and Spin's
OpenTelemetry endpoint."""

from harness.chart import pod_labels, render, the_container
from harness.kube import find, the, validate

OFF = {"enabled": False, "port": 9100, "serviceMonitor": {"enabled": False}}


def native_container(objects: list[dict]) -> dict:
    return the_container(the(objects, "Deployment")["spec"]["template"]["spec"])


def test_native_pods_serve_metrics_on_a_port_the_service_exposes_and_the_ingress_does_not_route():
    objects = render("native")
    container = native_container(objects)
    args = container["args"]
    assert args[args.index("--metrics-listen") + 1] == "0.0.0.0:9100"
    assert {"name": "metrics", "containerPort": 9100, "protocol": "TCP"} in container["ports"]
    ports = {p["name"]: p for p in the(objects, "Service")["spec"]["ports"]}
    assert ports["metrics"] == {"name": "metrics", "port": 9100, "targetPort": "metrics", "protocol": "TCP"}
    assert ports["http"]["port"] == 80
    backend = the(objects, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["port"] == {"number": 80}


def test_metrics_can_be_turned_off():
    objects = render("native", metrics=OFF)
    container = native_container(objects)
    assert "--metrics-listen" not in container["args"]
    assert [p["name"] for p in container["ports"]] == ["http"]
    assert [p["name"] for p in the(objects, "Service")["spec"]["ports"]] == ["http"]


def test_spin_pods_get_no_metrics_port_and_no_service_monitor():
    objects = render("spin", metrics={"enabled": True, "port": 9100, "serviceMonitor": {"enabled": True}})
    assert [p["name"] for p in the(objects, "Service")["spec"]["ports"]] == ["http"]
    assert not find(objects, "ServiceMonitor")


def test_a_service_monitor_is_rendered_only_when_asked_and_matches_its_crd():
    assert not find(render("native"), "ServiceMonitor")
    metrics = {
        "enabled": True,
        "port": 9100,
        "serviceMonitor": {"enabled": True, "interval": "15s", "labels": {"release": "kube-prometheus-stack"}},
    }
    objects = render("native", metrics=metrics)
    monitor = the(objects, "ServiceMonitor", "hello-world")
    validate(monitor)
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    service = the(objects, "Service", "hello-world")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [service["metadata"]["namespace"]]}
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "15s"}]


def test_a_service_monitor_with_a_field_its_crd_lacks_does_not_validate():
    monitor = the(
        render("native", metrics={"enabled": True, "port": 9100, "serviceMonitor": {"enabled": True}}), "ServiceMonitor"
    )
    monitor["spec"]["endpoints"][0]["scrapeEvery"] = "15s"
    try:
        validate(monitor)
    except Exception as error:  # kube.Invalid
        assert "scrapeEvery" in str(error)
    else:
        raise AssertionError("the CRD's schema accepted an unknown field")


def test_the_network_policy_admits_the_monitoring_namespace_on_the_metrics_port_only():
    objects = render(
        "native",
        networkPolicy={"enabled": True, "ingressNamespace": "ingress-nginx", "monitoringNamespace": "observability"},
    )
    policy = the(objects, "NetworkPolicy")["spec"]
    site, metrics = policy["ingress"]
    assert site["ports"] == [{"port": 8000, "protocol": "TCP"}]
    assert metrics == {
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}}],
        "ports": [{"port": 9100, "protocol": "TCP"}],
    }
    assert policy["egress"] == []
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels(objects, "native").items()


def test_logs_can_be_json():
    assert native_container(render("native"))["args"][4:6] == ["--log-format", "logfmt"]
    assert native_container(render("native", logFormat="json"))["args"][4:6] == ["--log-format", "json"]


def test_spin_exports_open_telemetry_where_the_values_say_and_may_reach_only_the_collector():
    objects = render("spin")
    assert "otel" not in the(objects, "SpinAppExecutor")["spec"]["deploymentConfig"]
    assert the(objects, "NetworkPolicy")["spec"]["egress"] == []
    otel = {"endpoint": "http://otel-collector.monitoring:4318", "tracesEndpoint": "http://tempo.monitoring:4318"}
    objects = render("spin", spin={"createExecutor": True, "runtimeClassName": "wasmtime-spin-v2", "otel": otel})
    executor = the(objects, "SpinAppExecutor")
    validate(executor)
    assert executor["spec"]["deploymentConfig"]["otel"] == {
        "exporter_otlp_endpoint": "http://otel-collector.monitoring:4318",
        "exporter_otlp_traces_endpoint": "http://tempo.monitoring:4318",
    }
    (egress,) = the(objects, "NetworkPolicy")["spec"]["egress"]
    assert egress["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert egress["ports"] == [{"port": 4317, "protocol": "TCP"}, {"port": 4318, "protocol": "TCP"}]
