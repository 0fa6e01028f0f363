"""The steps of the delivery chain that every end-to-end test takes, as a Flux user takes them:
the harness applied for a tenant (`kubectl kustomize deployment/test/`, variables filled, `kubectl apply`),
and then only waiting, on Ready conditions, for what Flux's controllers make of it: the
ResourceSet (flux-operator), the OCIRepository (source-controller, the chart pulled from the
cluster's registry) and the HelmRelease (helm-controller), then the workload the kubelet runs."""

import json
import time

import yaml

from harness.chain.render import harness_env, harness_objects, seed_shaped
from harness.cluster_api import ClusterAPI as Cluster
from harness.loopback_cluster.registry import crane
from harness.processes import StepFailed, wait_until

FLUX = "flux-system"


def inputs(cluster: Cluster, runtime: str, customer: str, **overrides: str) -> dict[str, str]:
    """The harness's inputs for a tenant, with the release in the cluster's registry."""
    return harness_env(APP_RUNTIME=runtime, APP_CUSTOMER=customer, **{**cluster.release, **overrides})


def harness(
    cluster: Cluster,
    runtime: str,
    customer: str,
    shape: str = "extended",
    replicas: int | None = None,
    cluster_inputs: dict | None = None,
    **overrides: str,
) -> list[dict]:
    """The seed's harness, `kubectl kustomize deployment/test/` with the variables filled; in the seed
    shape, the providers carry only the platform's keys. The chart registry is the cluster's,
    which speaks plain HTTP (the optional `app.chart.insecure` input, as CI's overlay sets it).
    `cluster_inputs` are added to the cluster provider's (`verify`, for one)."""
    objects = harness_objects(inputs(cluster, runtime, customer, **overrides))
    objects = seed_shaped(objects) if shape == "seed" else objects
    for issuer in (o for o in objects if o["kind"] == "ClusterIssuer"):
        # The issuer the chart's Ingress names solves ACME challenges on the real clusters; no
        # ACME server is reachable from a test cluster, whose issuer of that name signs itself.
        issuer["spec"] = cluster.issuer
    for provider in (o for o in objects if o["kind"] == "ResourceSetInputProvider"):
        if provider["metadata"]["name"] == "cluster-config":
            provider["spec"]["defaultValues"].update(cluster_inputs or {})
        app = provider["spec"]["defaultValues"].get("app")
        if app:
            app["chart"]["insecure"] = True
            if replicas is not None:
                app["replicas"] = replicas
    return objects


def wait(what: str, check, timeout: float = 90):
    return wait_until(what, check, timeout, interval=0.5)


def condition(obj: dict, kind: str = "Ready") -> dict:
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind), {})


def latest_release(release: dict) -> dict:
    """The newest Helm release a HelmRelease recorded (its status history), or {}."""
    return release.get("status", {}).get("history", [{}])[0]


def chart_version(release: dict) -> str:
    """The chart version of a HelmRelease's latest release. From an OCIRepository,
    helm-controller adds the artifact's digest as build metadata (`0.1.0+878cb1ca6d03`)."""
    return latest_release(release).get("chartVersion", "").split("+")[0]


def reconcile(cluster: Cluster, kind: str, name: str, timeout: float = 120) -> dict:
    """`flux reconcile`: asks the controller to reconcile now (the requestedAt annotation) and
    waits until it has handled that request and reports Ready for the object's generation, as
    `kubectl wait --for=condition=Ready` would after it."""
    requested = str(time.time_ns())
    cluster.kubectl("annotate", "--overwrite", kind, name, "-n", FLUX, f"reconcile.fluxcd.io/requestedAt={requested}")

    def done():
        obj = cluster.get(kind, name, namespace=FLUX)
        status = obj.get("status", {})
        ready = condition(obj)
        handled = status.get("lastHandledReconcileAt") == requested
        # flux-operator's objects carry the generation in the condition only.
        current = status.get("observedGeneration", ready.get("observedGeneration")) == obj["metadata"]["generation"]
        return obj if handled and current and ready.get("status") == "True" else None

    try:
        return wait(f"{kind} {name} reconciled and Ready", done, timeout)
    except StepFailed as error:
        obj = cluster.get(kind, name, namespace=FLUX)
        raise StepFailed(f"{error}; its conditions: {obj.get('status', {}).get('conditions')}") from None


def apply_tenant(
    cluster: Cluster, runtime: str, customer: str, values: dict | None = None, pull_secret: dict | None = None, **shaped
) -> str:
    """`kubectl apply` of the harness for a tenant (`shaped`: harness()'s shape, replicas and
    input overrides): with `values`, the tenant's chart values ConfigMap too (`<name>-values`,
    which the HelmRelease reads with valuesFrom); with `pull_secret`, a docker config for the
    harness's image-pull-secret. Returns the tenant's name (the app's namespace, and the name of
    its OCIRepository and HelmRelease)."""
    name = f"{inputs(cluster, runtime, customer)['APP_NAME']}-{customer}"
    objects = harness(cluster, runtime, customer, **shaped)
    if values is not None:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": f"{name}-values",
                    "namespace": FLUX,
                    # helm-controller reconciles on a change of a values source that carries this label.
                    "labels": {"reconcile.fluxcd.io/watch": "Enabled"},
                },
                "data": {"values.yaml": yaml.safe_dump(values)},
            }
        )
    if pull_secret is not None:
        secret = next(o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == "image-pull-secret")
        secret["stringData"] = {".dockerconfigjson": json.dumps(pull_secret)}
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(objects))
    return name


def reconcile_sources(cluster: Cluster, name: str) -> dict:
    """`flux reconcile` of the providers, the ResourceSet and the tenant's OCIRepository, each
    waited on until Ready; returns the OCIRepository."""
    for provider in ("tenant-config", "cluster-config"):
        reconcile(cluster, "resourcesetinputprovider", provider)
    reconcile(cluster, "resourceset", "hello-world")
    return reconcile(cluster, "ocirepository", name)


def deploy(cluster: Cluster, runtime: str, customer: str, **tenant) -> tuple[str, dict, dict]:
    """Applies the harness for a tenant (apply_tenant, which takes `tenant`'s shape, replicas,
    values, pull secret and input overrides), then waits as a Flux user does: the providers and
    the ResourceSet reconciled, the OCIRepository and the HelmRelease Ready. Returns the app's
    namespace, the OCIRepository and the HelmRelease."""
    name = apply_tenant(cluster, runtime, customer, **tenant)
    repo = reconcile_sources(cluster, name)
    release = reconcile(cluster, "helmrelease", name, timeout=180)
    return name, repo, release


def pods_of(cluster: Cluster, namespace: str, want: int) -> list[dict]:
    def created():
        pods = cluster.get("pods", namespace=namespace)["items"]
        return pods if len(pods) >= want else None

    try:
        return wait(f"{want} pods in {namespace}", created)
    except StepFailed as error:
        raise StepFailed(f"{error}; events in {namespace}:\n{events(cluster, namespace)}") from None


def events_for(cluster: Cluster, namespace: str, reason: str, name: str | None = None) -> list[dict]:
    """The events in `namespace` with `reason`, about the object `name` if given."""
    listed = cluster.get("events", namespace=namespace)["items"]
    return [e for e in listed if e["reason"] == reason and name in (None, e["involvedObject"]["name"])]


def events(cluster: Cluster, namespace: str) -> str:
    return cluster.kubectl(
        "get",
        "events",
        "-n",
        namespace,
        "-o",
        "custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message",
    ).stdout


def running_and_ready(
    cluster: Cluster, namespace: str, want: int, selector: str | None = None, timeout: float = 120
) -> list[dict]:
    """Waits until `want` pods in `namespace` are Running and Ready, by the kubelet's probes."""

    def ready():
        pods = [
            p
            for p in cluster.get("pods", namespace=namespace, selector=selector)["items"]
            if "deletionTimestamp" not in p["metadata"]
        ]
        good = [
            p
            for p in pods
            if p["status"].get("phase") == "Running"
            and all(c.get("ready") for c in p["status"].get("containerStatuses", [{}]))
        ]
        return good if len(good) == want == len(pods) else None

    try:
        return wait(f"{want} pods Running and Ready in {namespace}", ready, timeout)
    except StepFailed as error:
        raise StepFailed(f"{error}; events in {namespace}:\n{events(cluster, namespace)}") from None


def image_digest(ref: str) -> str:
    return crane("digest", ref).decode().strip()


def pinned(ref: str) -> str:
    """`ref` (repository:tag) as repository@digest, what is signed and verified."""
    return f"{ref.rsplit(':', 1)[0]}@{image_digest(ref)}"
