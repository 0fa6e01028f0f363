"""The delivery chain on a real control plane (cluster.py): the harness applied as the seed's
docs say (`kubectl kustomize test/`, variables filled, `kubectl apply`), the ResourceSet
reconciled with flux-operator's code, the chart installed by Helm with the HelmRelease's
values, spin-operator and the controller manager making Deployments, ReplicaSets and Pods, and
Pod Security admission judging every pod.

Without helm-controller and source-controller (not built here), Helm itself installs the chart
from this checkout with the values of the HelmRelease the reconciliation wrote, as
helm-controller would: into `spec.targetNamespace`, release stored in `spec.storageNamespace`.
"""

import copy
import os
import pathlib
import subprocess
import tempfile

import pytest
import yaml

from cluster import Cluster, StepFailed, tools_missing, wait_until
from ingress import container_port, run_nginx, run_pod
from conftest import ROOT
from pipeline import harness_env, harness_objects, seed_shaped

CHART = ROOT / "charts" / "hello-world"
# Each case is one tenant: the harness's own providers for each runtime, and the platform's
# seed-shaped providers (no runtime input: the chart's default, spin).
CASES = [
    ("spin", "extended", "acme"),
    ("native", "extended", "globex"),
    ("spin", "seed", "initech"),
]


@pytest.fixture(scope="module")
def cluster():
    missing = tools_missing()
    if missing:
        if os.environ.get("HELLO_WORLD_REQUIRE_E2E") == "1":
            pytest.fail(f"HELLO_WORLD_REQUIRE_E2E=1 but these tools are not set: {missing}")
        pytest.skip(f"the cluster's tools are not built ({', '.join(missing)}): run `bin/mise run e2e`")
    workdir = tempfile.mkdtemp(prefix="hello-world-e2e-")
    cluster = Cluster(pathlib.Path(workdir))
    try:
        cluster.start()
        print("cluster start-up (s):", {k: round(v, 1) for k, v in cluster.timings.items()})
        yield cluster
    finally:
        cluster.stop()


def harness(runtime: str, shape: str, customer: str) -> list[dict]:
    """The seed's harness, `kubectl kustomize test/` with the variables filled; in the seed
    shape, the providers carry only the platform's keys."""
    objects = harness_objects(harness_env(APP_RUNTIME=runtime, APP_CUSTOMER=customer))
    return seed_shaped(objects) if shape == "seed" else objects


def wait(what: str, check, timeout: float = 90):
    return wait_until(what, check, timeout, interval=0.5)


def reconciled(cluster: Cluster, name: str):
    """Reconciles ResourceSet hello-world; returns the OCIRepository and HelmRelease for `name`."""
    cluster.reconcile_resourceset("hello-world")
    def both():
        repos = cluster.get("ocirepositories", namespace="flux-system")["items"]
        releases = cluster.get("helmreleases", namespace="flux-system")["items"]
        repo = next((r for r in repos if r["metadata"]["name"] == name), None)
        release = next((r for r in releases if r["metadata"]["name"] == name), None)
        return (repo, release) if repo and release else None
    return wait(f"ResourceSet hello-world reconciled into {name}", both, timeout=10)


def install(cluster: Cluster, release: dict, **overrides) -> dict:
    """`helm upgrade --install` as helm-controller runs it for `release`; returns the values."""
    spec = release["spec"]
    values = copy.deepcopy(spec.get("values") or {})
    values.update(overrides)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        yaml.safe_dump(values, file)
        file.flush()
        cluster.helm("upgrade", "--install", spec["releaseName"], str(CHART),
                     "--namespace", spec["storageNamespace"], "--values", file.name, "--wait=false")
    return values


def pods_of(cluster: Cluster, namespace: str, want: int) -> list[dict]:
    def created():
        pods = cluster.get("pods", namespace=namespace)["items"]
        return pods if len(pods) >= want else None
    try:
        return wait(f"{want} pods in {namespace}", created)
    except StepFailed as error:
        events = cluster.kubectl("get", "events", "-n", namespace, "-o", "custom-columns=REASON:.reason,MESSAGE:.message").stdout
        raise StepFailed(f"{error}; events in {namespace}:\n{events}") from None


@pytest.mark.parametrize("runtime, shape, customer", CASES)
def test_the_chain_from_resourceset_to_admitted_pods(cluster, runtime, shape, customer):
    env = harness_env(APP_RUNTIME=runtime, APP_CUSTOMER=customer)
    objects = harness(runtime, shape, customer)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(objects))
    name = f"{env['APP_NAME']}-{customer}"

    # flux-operator: one OCIRepository and one HelmRelease for the tenant × cluster pair.
    repo, release = reconciled(cluster, name)
    assert repo["spec"]["url"] == f"oci://{env['APP_CHART_REGISTRY']}/hello-world"
    assert repo["spec"]["ref"] == {"semver": env["APP_CHART_VERSION"]}
    spec = release["spec"]
    assert spec["targetNamespace"] == name and spec["storageNamespace"] == "flux-system"
    assert spec["chartRef"] == {"kind": "OCIRepository", "name": name, "namespace": "flux-system"}
    values = spec["values"]
    assert values["ingress"]["hostname"] == f"{customer}.{env['APP_NAME']}.{env['CLUSTER_FQDN']}"
    assert values.get("runtime") == (runtime if shape == "extended" else None)

    # Helm installs the chart with those values; its Namespace carries the Pod Security level
    # the runtime's pods meet.
    installed = install(cluster, release)
    namespace = cluster.get("namespace", name)
    enforce = namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
    assert enforce == ("restricted" if runtime == "native" else "baseline")

    # The workload: spin-operator turns the SpinApp into a Deployment; the controller manager
    # makes the ReplicaSet and the Pods, which admission (PodSecurity, ServiceAccount,
    # RuntimeClass) accepts.
    replicas = installed.get("replicaCount", 3)
    deployment_name = f"{env['APP_NAME']}-spin" if runtime == "spin" else f"{env['APP_NAME']}-deployment"
    deployment = wait(f"Deployment {deployment_name}", lambda: cluster.kubectl(
        "get", "deployment", deployment_name, "-n", name, "-o", "json", check=False).stdout or None)
    deployment = yaml.safe_load(deployment)
    if runtime == "spin":
        assert deployment["metadata"]["ownerReferences"][0]["kind"] == "SpinApp"
    pods = pods_of(cluster, name, replicas)
    assert len(pods) == replicas

    # The access flow: Ingress / -> Service :80 -> exactly the app's pods, on the port the
    # runtime listens on.
    ingress = cluster.get("ingress", env["APP_NAME"], namespace=name)
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == values["ingress"]["hostname"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    service = cluster.get("service", backend["name"], namespace=name)
    port = next(p for p in service["spec"]["ports"] if p["port"] == backend["port"]["number"])
    assert port["port"] == 80
    selector = service["spec"]["selector"]
    selected = [p for p in cluster.get("pods", namespace=name)["items"]
                if selector.items() <= p["metadata"].get("labels", {}).items()]
    assert sorted(p["metadata"]["name"] for p in selected) == sorted(p["metadata"]["name"] for p in pods)
    for pod in selected:
        container_ports = [cp for c in pod["spec"]["containers"] for cp in c.get("ports", [])]
        target = port["targetPort"]
        assert any(cp["containerPort"] == target or cp.get("name") == target for cp in container_ports), (target, container_ports)

    # What production needs, admitted by the API server: the disruption budget and the network
    # policy select exactly the app's pods, and the policy opens the port they serve.
    all_pods = cluster.get("pods", namespace=name)["items"]
    budget = cluster.get("poddisruptionbudget", env["APP_NAME"], namespace=name)["spec"]
    policy = cluster.get("networkpolicy", env["APP_NAME"], namespace=name)["spec"]
    for selector in (budget["selector"]["matchLabels"], policy["podSelector"]["matchLabels"]):
        chosen = [p["metadata"]["name"] for p in all_pods if selector.items() <= p["metadata"].get("labels", {}).items()]
        assert sorted(chosen) == sorted(p["metadata"]["name"] for p in pods)
    assert policy["ingress"][0]["ports"][0]["port"] == port["targetPort"]


@pytest.mark.parametrize("runtime", ["spin", "native"])
def test_autoscaling_is_admitted_for_either_runtime(cluster, runtime):
    customer = f"scale-{runtime}"
    env = harness_env(APP_RUNTIME=runtime, APP_CUSTOMER=customer)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(harness(runtime, "extended", customer)))
    name = f"{env['APP_NAME']}-{customer}"
    _, release = reconciled(cluster, name)
    install(cluster, release, autoscaling={"enabled": True, "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 80})
    hpa = cluster.get("horizontalpodautoscaler", env["APP_NAME"], namespace=name)["spec"]
    target = f"{env['APP_NAME']}-{'spin' if runtime == 'spin' else 'deployment'}"
    assert hpa["scaleTargetRef"]["name"] == target
    # The HPA's target exists: spin-operator makes it from a SpinApp with enableAutoscaling.
    wait(f"Deployment {target}", lambda: cluster.kubectl("get", "deployment", target, "-n", name, check=False).returncode == 0)


def test_switching_the_runtime_keeps_host_tls_and_service(cluster):
    customer = "hooli"
    env = harness_env(APP_RUNTIME="spin", APP_CUSTOMER=customer)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(harness("spin", "extended", customer)))
    name = f"{env['APP_NAME']}-{customer}"
    _, release = reconciled(cluster, name)

    def address():
        ingress = cluster.get("ingress", env["APP_NAME"], namespace=name)
        service = cluster.get("service", env["APP_NAME"], namespace=name)
        return (ingress["spec"]["rules"][0]["host"], ingress["spec"]["tls"][0]["secretName"],
                service["metadata"]["uid"], service["spec"]["ports"][0]["port"])

    install(cluster, release)
    before = address()
    install(cluster, release, runtime="native")
    # The native Deployment's pods are admitted under the stricter level of its namespace.
    assert cluster.get("namespace", name)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    pods_of(cluster, name, 1)
    assert address() == before
    install(cluster, release, runtime="spin")
    assert address() == before


@pytest.mark.parametrize("runtime", ["native", "spin"])
def test_the_conformance_suite_passes_through_the_ingress(cluster, runtime):
    """Ingress (nginx, configured from the Ingress object) -> Service -> one pod, run from its
    own spec: the HTTP rule cases arrive as they do without the proxy."""
    customer = f"edge-{runtime}"
    env = harness_env(APP_RUNTIME=runtime, APP_CUSTOMER=customer)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(harness(runtime, "extended", customer)))
    name = f"{env['APP_NAME']}-{customer}"
    _, release = reconciled(cluster, name)
    install(cluster, release)
    pod = pods_of(cluster, name, 1)[0]
    ingress = cluster.get("ingress", env["APP_NAME"], namespace=name)
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = cluster.get("service", backend["name"], namespace=name)
    service_port = next(p for p in service["spec"]["ports"] if p["port"] == backend["port"]["number"])
    upstream = container_port(pod["spec"]["containers"][0], service_port["targetPort"])

    workdir = cluster.dir / customer
    workdir.mkdir()
    server, ready_port = run_pod(pod, workdir)
    try:
        # The Service's target port is the port the pod's own readiness probe passed on.
        assert upstream == ready_port
        proxy, port = run_nginx(ingress, upstream, workdir / "nginx")
        try:
            result = subprocess.run(
                ["cargo", "test", "--quiet", "-p", "runtime-shim", "--test", "conformance", "--", "ingress::"],
                cwd=ROOT, capture_output=True, text=True,
                env={**os.environ, "HELLO_WORLD_INGRESS": f"127.0.0.1:{port}", "HELLO_WORLD_HOST": rule_host(ingress)},
            )
            summary = [line for line in result.stdout.splitlines() if line.startswith("test result")]
            print(f"conformance through the ingress ({runtime}):", summary)
            assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
            assert summary and " 0 ignored" in summary[-1], summary
        finally:
            proxy.stop()
    finally:
        server.stop()


def rule_host(ingress: dict) -> str:
    return ingress["spec"]["rules"][0]["host"]
