"""charts/hello-world on its own: lint, schema, both runtimes, and what must not change
between them."""

import base64
import json
import shutil
import subprocess

import pytest
import yaml

from harness.chain.render import CHART, RenderError, helm, helm_template
from harness.chart import HOST, pod_labels, render, the_container
from harness.kube import find, the, validate
from harness.tools import version
from harness.workspace import DATA


def lint(*values_files) -> subprocess.CompletedProcess:
    args = [helm(), "lint", "--strict", str(CHART)]
    for f in values_files:
        args += ["--values", str(f)]
    return subprocess.run(args, capture_output=True, text=True)


def test_helm_lint_strict_is_clean_with_defaults_and_both_runtimes(tmp_path):
    assert lint().returncode == 0, lint().stdout + lint().stderr
    for runtime in ("spin", "native"):
        values = tmp_path / f"{runtime}.yaml"
        values.write_text(yaml.safe_dump({"runtime": runtime, "ingress": {"enabled": True, "hostname": HOST}}))
        result = lint(values)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "values, complaint",
    [
        ({"runtime": "wasm"}, "runtime"),
        ({"ingress": {"enabled": True}}, "hostname"),
        ({"ingress": {"enabled": True, "hostname": ""}}, "hostname"),
        ({"replicaCount": -1}, "replicaCount"),
        ({"replicaCount": "3"}, "replicaCount"),
        ({"image": {"registry": "r", "name": "hello", "tag": 1.0}}, "/image/tag"),
        ({"image": {"registry": "r", "name": "hello", "tag": 2}}, "/image/tag"),
        ({"replicas": 3}, "replicas"),
        ({"service": {"port": 0}}, "/service/port"),
        ({"appName": "Hello_World"}, "appName"),
        ({"shutdown": {"drainDelaySeconds": -1, "timeoutSeconds": 25}}, "/shutdown/drainDelaySeconds"),
        ({"shutdown": {"drainDelaySeconds": "5", "timeoutSeconds": 25}}, "/shutdown/drainDelaySeconds"),
        ({"metrics": {"enabled": True, "port": 0, "serviceMonitor": {"enabled": False}}}, "/metrics/port"),
        (
            {"metrics": {"enabled": True, "port": 9100, "serviceMonitor": {"enabled": True, "interval": "often"}}},
            "/metrics/serviceMonitor/interval",
        ),
        ({"logFormat": "xml"}, "logFormat"),
        (
            {"spin": {"createExecutor": True, "runtimeClassName": "x", "otel": {"endpoint": "collector:4318"}}},
            "/spin/otel/endpoint",
        ),
        (
            {"ingress": {"enabled": True, "hostname": "x.example.com"}, "service": {"enabled": False, "port": 80}},
            "service.enabled",
        ),
        ({"httpRoute": {"enabled": True, "hostnames": [HOST]}}, "parentRefs"),
        (
            {"httpRoute": {"enabled": True, "parentRefs": [{"name": "platform"}], "hostnames": []}},
            "/httpRoute/hostnames",
        ),
        ({"httpRoute": {"enabled": True, "parentRefs": [{"namespace": "gateway"}], "hostnames": [HOST]}}, "name"),
        (
            {"httpRoute": {"enabled": True, "parentRefs": [{"name": "platform"}], "hostnames": ["Bad_Host"]}},
            "/httpRoute/hostnames/0",
        ),
        (
            {
                "httpRoute": {"enabled": True, "parentRefs": [{"name": "p"}], "hostnames": [HOST]},
                "service": {"enabled": False, "port": 80},
            },
            "httpRoute.enabled needs service.enabled",
        ),
    ],
)
def test_bad_values_are_rejected_with_the_field_named(values, complaint):
    with pytest.raises(RenderError) as error:
        helm_template("hello-world", "hello-world", values)
    assert complaint in str(error.value)


@pytest.mark.parametrize("runtime", ["spin", "native"])
def test_every_rendered_object_is_valid(runtime):
    objects = render(runtime)
    assert objects
    for obj in objects:
        validate(obj)


def test_spin_renders_a_spinapp_and_no_deployment():
    objects = render("spin", image={"registry": "registry.example.com/team", "name": "hello-world", "tag": "1.2.3"})
    app = the(objects, "SpinApp", "hello-world-spin")
    assert app["spec"]["image"] == "registry.example.com/team/hello-world-spin:1.2.3"
    assert app["spec"]["executor"] == "containerd-shim-spin"
    assert app["spec"]["replicas"] == 3
    assert app["spec"]["imagePullSecrets"] == [{"name": "image-pull-secret"}]
    assert app["spec"]["checks"]["readiness"]["httpGet"]["path"] == "/.healthz"
    assert app["spec"]["checks"]["liveness"]["httpGet"]["path"] == "/.healthz"
    # spin-operator v0.6.1's defaulting webhook turns an absent header list into null.
    assert (
        app["spec"]["checks"]["readiness"]["httpGet"]["httpHeaders"]
        == app["spec"]["checks"]["liveness"]["httpGet"]["httpHeaders"]
        == []
    )
    executor = the(objects, "SpinAppExecutor", "containerd-shim-spin")
    assert executor["metadata"]["namespace"] == app["metadata"]["namespace"]
    assert not find(objects, "Deployment")


@pytest.mark.parametrize(
    "shutdown, args, grace",
    [
        (None, ["--drain-delay", "5", "--shutdown-timeout", "25"], 35),
        ({"drainDelaySeconds": 0, "timeoutSeconds": 10}, ["--drain-delay", "0", "--shutdown-timeout", "10"], 15),
    ],
)
def test_native_shutdown_settings_set_the_drain_and_a_grace_period_that_covers_it(shutdown, args, grace):
    objects = render("native", **({"shutdown": shutdown} if shutdown else {}))
    pod = the(objects, "Deployment", "hello-world-deployment")["spec"]["template"]["spec"]
    assert the_container(pod)["args"][:4] == args
    assert pod["terminationGracePeriodSeconds"] == grace


def test_native_rollout_starts_every_new_pod_before_an_old_one_stops():
    strategy = the(render("native"), "Deployment", "hello-world-deployment")["spec"]["strategy"]
    assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "100%", "maxUnavailable": 0}}


def test_native_renders_a_hardened_deployment_and_no_spinapp():
    objects = render("native")
    deployment = the(objects, "Deployment", "hello-world-deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = the_container(pod)
    assert container["image"] == "europe-west3-docker.pkg.dev/digitalgedacht/hello-world/hello-world:0.1.0"
    assert container["ports"][0] == {"name": "http", "containerPort": 8000, "protocol": "TCP"}
    assert {"name": "PORT", "value": "8000"} in container["env"]
    # Drain delay + shutdown timeout fit in the grace period, so SIGKILL never cuts requests.
    args = dict(zip(container["args"][::2], container["args"][1::2], strict=False))
    assert int(args["--drain-delay"]) + int(args["--shutdown-timeout"]) < pod["terminationGracePeriodSeconds"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/.healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/.healthz"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert not find(objects, "SpinApp")


def address(objects: list[dict]) -> dict:
    ingress = the(objects, "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = the(objects, "Service", backend["name"])
    return {
        "host": ingress["spec"]["rules"][0]["host"],
        "tls": ingress["spec"]["tls"],
        "class": ingress["spec"]["ingressClassName"],
        "annotations": ingress["metadata"]["annotations"],
        "backend": backend,
        # The port the Ingress routes to; native pods add `metrics`, which it never routes.
        "service": (service["metadata"]["name"], [p["port"] for p in service["spec"]["ports"] if p["name"] == "http"]),
    }


def test_switching_runtime_keeps_host_tls_and_service():
    spin, native = address(render("spin")), address(render("native"))
    assert spin == native
    assert spin["host"] == HOST
    assert spin["tls"] == [{"hosts": [HOST], "secretName": "hello-world-tls"}]
    assert spin["backend"] == {"name": "hello-world", "port": {"number": 80}}
    assert spin["service"] == ("hello-world", [80])
    assert spin["class"] == "nginx"
    assert spin["annotations"]["cert-manager.io/cluster-issuer"] == "google-cloud-dns-cluster-issuer"


@pytest.mark.parametrize("runtime", ["spin", "native"])
def test_an_httproute_sends_every_path_of_its_hosts_to_the_service_the_ingress_names(runtime):
    gateway = {"name": "platform", "namespace": "traefik", "sectionName": "websecure"}
    objects = render(runtime, httpRoute={"enabled": True, "parentRefs": [gateway], "hostnames": [HOST]})
    route = the(objects, "HTTPRoute", "hello-world")
    validate(route)
    assert route["spec"]["parentRefs"] == [gateway]
    assert route["spec"]["hostnames"] == [HOST]
    (rule,) = route["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert rule["backendRefs"] == [{"name": "hello-world", "port": 80}]
    assert address(objects)["backend"] == {"name": "hello-world", "port": {"number": 80}}
    assert not find(render(runtime), "HTTPRoute")


def spin_operator_pod_labels(app: dict) -> dict:
    """The pod labels spin-operator gives a SpinApp's pods: spec.podLabels plus its own."""
    name = app["metadata"]["name"]
    return {
        **app["spec"].get("podLabels", {}),
        "core.spinkube.dev/app-name": name,
        f"core.spinkube.dev/app.{name}.status": "ready",
    }


@pytest.mark.parametrize("runtime", ["spin", "native"])
def test_service_selects_the_pods_and_targets_their_port(runtime):
    objects = render(runtime, podLabels={"team": "docs"})
    service = the(objects, "Service", "hello-world")
    selector = service["spec"]["selector"]
    if runtime == "spin":
        labels = spin_operator_pod_labels(the(objects, "SpinApp"))
        port = 80  # spin-operator's pods listen on 80
    else:
        template = the(objects, "Deployment")["spec"]["template"]
        labels = template["metadata"]["labels"]
        port = the_container(template["spec"])["ports"][0]["containerPort"]
    assert selector.items() <= labels.items(), f"{selector} does not select {labels}"
    assert labels["team"] == "docs"
    assert service["spec"]["ports"][0]["targetPort"] == port


def test_namespace_is_optional_and_labelled_for_pod_security():
    assert not find(render("native", createNamespace=False), "Namespace")
    native = the(render("native"), "Namespace", "hello-world")
    assert native["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    spin = the(render("spin"), "Namespace", "hello-world")
    assert spin["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert spin["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"


@pytest.mark.parametrize("runtime", ["spin", "native"])
def test_registry_credentials_become_the_pull_secret_the_pods_name_in_their_namespace(runtime):
    # As the HelmRelease's valuesFrom passes the platform's pull secret: its .dockerconfigjson.
    config = {"auths": {"registry.example.com": {"auth": base64.b64encode(b"tenant:s3cret").decode()}}}
    objects = render(runtime, **yaml.safe_load(json.dumps(config)))
    secret = the(objects, "Secret", "image-pull-secret")
    assert secret["metadata"]["namespace"] == "hello-world"
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert json.loads(base64.b64decode(secret["data"][".dockerconfigjson"])) == config
    workload = the(objects, "SpinApp" if runtime == "spin" else "Deployment")
    pod = workload["spec"] if runtime == "spin" else workload["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "image-pull-secret"}]
    validate(secret)
    # Without credentials, no secret: the namespace must have one already.
    assert not find(render(runtime), "Secret")


def test_every_object_carries_the_standard_labels():
    for runtime in ("spin", "native"):
        for obj in render(runtime):
            labels = obj["metadata"]["labels"]
            for key in (
                "app.kubernetes.io/name",
                "app.kubernetes.io/instance",
                "app.kubernetes.io/version",
                "app.kubernetes.io/managed-by",
                "helm.sh/chart",
            ):
                assert key in labels, f"{obj['kind']} lacks {key}"


def test_notes_say_where_the_docs_are(tmp_path):
    # `helm template` skips NOTES.txt and `install --dry-run` needs a cluster in Helm 3.10:
    # render a copy of the chart whose notes are wrapped in an ordinary YAML template.
    chart = tmp_path / "hello-world"
    shutil.copytree(CHART, chart)
    notes = chart / "templates" / "NOTES.txt"
    (chart / "templates" / "_notes.tpl").write_text('{{- define "notes" -}}\n' + notes.read_text() + "{{- end -}}\n")
    notes.unlink()
    (chart / "templates" / "notes.yaml").write_text('notes: |\n{{ include "notes" . | indent 2 }}\n')
    for runtime, needle in (
        ("spin", "get spinapp hello-world-spin"),
        ("native", "rollout status deployment/hello-world-deployment"),
    ):
        result = subprocess.run(
            [
                helm(),
                "template",
                "hello-world",
                str(chart),
                "--namespace",
                "hello-world",
                "--show-only",
                "templates/notes.yaml",
                "--set",
                f"runtime={runtime}",
                "--set",
                "ingress.enabled=true",
                "--set",
                f"ingress.hostname={HOST}",
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        text = yaml.safe_load(result.stdout)["notes"]
        assert f"https://{HOST}/" in text
        assert needle in text


@pytest.mark.parametrize("runtime", ["spin", "native"])
def test_a_disruption_budget_lets_one_pod_go_at_a_time(runtime):
    objects = render(runtime)
    budget = the(objects, "PodDisruptionBudget")
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels(objects, runtime).items()


@pytest.mark.parametrize("runtime, port", [("spin", 80), ("native", 8000)])
def test_the_network_policy_admits_only_the_ingress_namespace_to_the_site_and_no_egress(runtime, port):
    objects = render(runtime, metrics={"enabled": False, "port": 9100, "serviceMonitor": {"enabled": False}})
    policy = the(objects, "NetworkPolicy")["spec"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels(objects, runtime).items()
    assert policy["policyTypes"] == ["Ingress", "Egress"] and policy["egress"] == []
    (rule,) = policy["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    assert rule["ports"] == [{"port": port, "protocol": "TCP"}]
    other = render(runtime, networkPolicy={"enabled": True, "ingressNamespace": "traefik"})
    assert the(other, "NetworkPolicy")["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "traefik"
    }
    assert not find(render(runtime, networkPolicy={"enabled": False, "ingressNamespace": "x"}), "NetworkPolicy")


def test_native_pods_spread_across_nodes():
    objects = render("native")
    (spread,) = the(objects, "Deployment")["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert (spread["topologyKey"], spread["maxSkew"]) == ("kubernetes.io/hostname", 1)
    assert spread["labelSelector"]["matchLabels"].items() <= pod_labels(objects, "native").items()


@pytest.mark.parametrize("runtime, target", [("spin", "hello-world-spin"), ("native", "hello-world-deployment")])
def test_autoscaling_hands_the_replicas_to_an_hpa(runtime, target):
    assert not find(render(runtime), "HorizontalPodAutoscaler")
    autoscaling = {"enabled": True, "minReplicas": 2, "maxReplicas": 6, "targetCPUUtilizationPercentage": 70}
    objects = render(runtime, autoscaling=autoscaling)
    hpa = the(objects, "HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)
    assert hpa["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    workload = the(objects, "SpinApp" if runtime == "spin" else "Deployment")["spec"]
    assert "replicas" not in workload
    if runtime == "spin":
        assert workload["enableAutoscaling"] is True
    for obj in objects:
        validate(obj)


def test_helm_template_with_defaults_has_the_production_objects():
    objects = helm_template("hello-world", "hello-world", {})
    assert the(objects, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert the(objects, "NetworkPolicy")["spec"]["policyTypes"] == ["Ingress", "Egress"]
    labels = the(objects, "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_the_httproute_is_checked_against_the_gateway_api_crds_the_cluster_installs():
    pinned = version("gateway-api")
    crd = yaml.safe_load((DATA / "crds/gateway-api/gateway.networking.k8s.io_httproutes.yaml").read_text())
    annotations = crd["metadata"]["annotations"]
    assert (
        annotations["gateway.networking.k8s.io/bundle-version"],
        annotations["gateway.networking.k8s.io/channel"],
    ) == (pinned, "standard")
