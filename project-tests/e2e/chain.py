"""The steps of the delivery chain that every end-to-end test takes: the harness applied for
a tenant, the ResourceSet reconciled (flux-operator's code), the chart installed from the
cluster's registry as helm-controller would, and waiting for what the controllers and the
kubelet make of it."""

import copy
import tempfile

import yaml

from cluster import Cluster
from pipeline import harness_env, harness_objects, seed_shaped
from processes import StepFailed, wait_until
from registry import crane


def inputs(cluster: Cluster, runtime: str, customer: str) -> dict[str, str]:
    """The harness's inputs for a tenant, with the release in the cluster's registry."""
    return harness_env(APP_RUNTIME=runtime, APP_CUSTOMER=customer, **cluster.release)


def harness(cluster: Cluster, runtime: str, customer: str, shape: str = "extended") -> list[dict]:
    """The seed's harness, `kubectl kustomize test/` with the variables filled; in the seed
    shape, the providers carry only the platform's keys."""
    objects = harness_objects(inputs(cluster, runtime, customer))
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


def deploy(cluster: Cluster, runtime: str, customer: str, shape: str = "extended") -> tuple[str, dict, dict]:
    """Applies the harness for a tenant and reconciles it; returns the app's namespace, the
    OCIRepository and the HelmRelease."""
    name = f"{inputs(cluster, runtime, customer)['APP_NAME']}-{customer}"
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(harness(cluster, runtime, customer, shape)))
    repo, release = reconciled(cluster, name)
    return name, repo, release


def install(cluster: Cluster, repo: dict, release: dict, **overrides) -> dict:
    """`helm upgrade --install` as helm-controller runs it for `release`, with the chart the
    OCIRepository `repo` names, pulled from the cluster's registry; returns the values."""
    spec = release["spec"]
    values = copy.deepcopy(spec.get("values") or {})
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        yaml.safe_dump(values, file)
        file.flush()
        cluster.helm("upgrade", "--install", spec["releaseName"], repo["spec"]["url"],
                     "--version", repo["spec"]["ref"]["semver"], "--plain-http",
                     "--namespace", spec["storageNamespace"], "--values", file.name, "--wait=false")
    return values


def pods_of(cluster: Cluster, namespace: str, want: int) -> list[dict]:
    def created():
        pods = cluster.get("pods", namespace=namespace)["items"]
        return pods if len(pods) >= want else None
    try:
        return wait(f"{want} pods in {namespace}", created)
    except StepFailed as error:
        raise StepFailed(f"{error}; events in {namespace}:\n{events(cluster, namespace)}") from None


def events(cluster: Cluster, namespace: str) -> str:
    return cluster.kubectl("get", "events", "-n", namespace, "-o",
                           "custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message").stdout


def running_and_ready(cluster: Cluster, namespace: str, want: int, selector: str | None = None, timeout: float = 120) -> list[dict]:
    """Waits until `want` pods in `namespace` are Running and Ready, by the kubelet's probes."""
    def ready():
        pods = [p for p in cluster.get("pods", namespace=namespace, selector=selector)["items"]
                if "deletionTimestamp" not in p["metadata"]]
        good = [p for p in pods if p["status"].get("phase") == "Running" and all(
            c.get("ready") for c in p["status"].get("containerStatuses", [{}]))]
        return good if len(good) == want == len(pods) else None
    try:
        return wait(f"{want} pods Running and Ready in {namespace}", ready, timeout)
    except StepFailed as error:
        raise StepFailed(f"{error}; events in {namespace}:\n{events(cluster, namespace)}") from None



def image_digest(ref: str) -> str:
    return crane("digest", ref).decode().strip()
