"""What Flux promises a platform team, each shown on the loopback cluster with Flux's own
controllers (flux.py) and nothing of ours in the reconcile path: the harness is applied, and
the test waits, as a Flux user does.

- a value changed in a provider rolls the release and its pods, with no `flux reconcile`;
- a chart version pushed within the OCIRepository's semver range is installed;
- a change made by hand to the Deployment is reverted (drift detection, as we template it);
- a tenant whose inputs are gone is pruned: OCIRepository, HelmRelease, release and workload,
  and its Namespace, with its SpinAppExecutor, while the next Spin tenant runs (spin-operator's
  webhooks on);
- a chart that cannot be installed fails the HelmRelease, and its event says why;
- with a registry that requires a login, the chart is pulled with the pull secret and the
  pods' images with the copy the chart puts in their namespace.

(Switching the runtime leaves one workload: test_cluster.py.)
"""

import base64
import json
import subprocess
import tempfile

import pytest
import yaml

from harness.chain.deliver import (
    FLUX,
    apply_tenant,
    chart_version,
    condition,
    deploy,
    events_for,
    latest_release,
    reconcile,
    reconcile_sources,
    running_and_ready,
    wait,
)
from harness.chain.render import kustomize
from harness.loopback_cluster.registry import Registry, crane
from harness.processes import StepFailed, tool
from harness.workspace import ROOT


def helm_releases(cluster, name: str) -> list[str]:
    """The Helm release records of `name` (helm-controller stores them in flux-system)."""
    return [
        s["metadata"]["name"]
        for s in cluster.get("secrets", namespace=FLUX, selector=f"owner=helm,name={name}")["items"]
    ]


def exists(cluster, kind: str, name: str, namespace: str | None = None) -> bool:
    args = ["get", kind, name] + (["-n", namespace] if namespace else [])
    return cluster.kubectl(*args, check=False).returncode == 0


def test_a_value_changed_in_a_provider_rolls_the_release_by_itself(cluster):
    name, _, release = deploy(cluster, "native", "values", replicas=1, CLUSTER_ENV="staging")
    pods = running_and_ready(cluster, name, 1)
    assert pods[0]["metadata"]["labels"]["environment"] == "staging"
    revision = latest_release(release)["version"]

    # The platform changes the cluster's provider; nothing asks Flux to reconcile: the provider
    # controller exports the new inputs, the ResourceSet renders the HelmRelease anew, and
    # helm-controller upgrades the release, each on its own watch.
    apply_tenant(cluster, "native", "values", replicas=1, CLUSTER_ENV="production")

    def upgraded():
        release = cluster.get("helmrelease", name, namespace=FLUX)
        latest = latest_release(release)
        return release if latest.get("version", 0) > revision and latest.get("status") == "deployed" else None

    release = wait(f"HelmRelease {name} upgraded past revision {revision}", upgraded, timeout=180)
    assert release["spec"]["values"]["podLabels"] == {"environment": "production"}
    pods = wait(
        "the pods rolled to the new label",
        lambda: [
            p for p in running_and_ready(cluster, name, 1) if p["metadata"]["labels"].get("environment") == "production"
        ],
    )
    print(
        f"provider change: revision {revision} -> {latest_release(release)['version']}, "
        f"pod {pods[0]['metadata']['name']} has environment=production"
    )


def test_a_chart_version_pushed_within_the_semver_range_is_installed(cluster, tmp_path):
    registry = cluster.release["APP_CHART_REGISTRY"]
    major, minor, _ = cluster.release["APP_CHART_VERSION"].split(".")
    wanted = f"{major}.{minor}.x"
    in_range = [
        tag for tag in crane("ls", f"{registry}/hello-world").decode().split() if tag.startswith(f"{major}.{minor}.")
    ]
    latest = max(in_range, key=lambda tag: int(tag.split(".")[2]))
    name, repo, release = deploy(cluster, "native", "semver", replicas=1, APP_CHART_VERSION=wanted)
    assert repo["spec"]["ref"] == {"semver": wanted}
    assert chart_version(release) == latest

    # A newer chart in the range, pushed as a release pushes one (helm push to the registry).
    newer = f"{major}.{minor}.{int(latest.split('.')[2]) + 1}"
    subprocess.run(
        [
            tool("helm"),
            "package",
            str(ROOT / "charts" / "hello-world"),
            "--version",
            newer,
            "--destination",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [tool("helm"), "push", str(tmp_path / f"hello-world-{newer}.tgz"), f"oci://{registry}", "--plain-http"],
        check=True,
        capture_output=True,
    )

    # source-controller finds it at its next poll (`flux reconcile source oci` brings that
    # forward); helm-controller upgrades the release on the new artifact by itself.
    repo = reconcile(cluster, "ocirepository", name)
    assert repo["status"]["artifact"]["revision"].startswith(f"{newer}@sha256:")

    def upgraded():
        release = cluster.get("helmrelease", name, namespace=FLUX)
        deployed = latest_release(release).get("status") == "deployed"
        return release if chart_version(release) == newer and deployed else None

    wait(f"HelmRelease {name} upgraded to chart {newer}", upgraded, timeout=180)
    deployment = cluster.get("deployment", "hello-world-deployment", namespace=name)
    assert deployment["metadata"]["labels"]["helm.sh/chart"].startswith(f"hello-world-{newer}_")  # + digest
    print(f"semver {wanted}: chart {latest} -> {newer}, picked up from the registry")


def test_a_change_by_hand_to_the_deployment_is_reverted(cluster):
    name, _, _ = deploy(cluster, "native", "drift", replicas=2)
    running_and_ready(cluster, name, 2)
    cluster.kubectl("scale", "deployment", "hello-world-deployment", "-n", name, "--replicas=1")
    cluster.kubectl(
        "label", "deployment", "hello-world-deployment", "-n", name, "--overwrite", "app.kubernetes.io/part-of=edited"
    )

    # At the release's next reconciliation (every 5m; `flux reconcile helmrelease` brings it
    # forward), helm-controller compares the cluster with the release and corrects it.
    reconcile(cluster, "helmrelease", name)
    deployment = cluster.get("deployment", "hello-world-deployment", namespace=name)
    assert deployment["spec"]["replicas"] == 2
    assert deployment["metadata"]["labels"]["app.kubernetes.io/part-of"] == "hello-world"
    (event, *_) = events_for(cluster, FLUX, "DriftDetected", name)
    print(f"drift: {event['message'][:160]}")
    assert "hello-world-deployment" in event["message"]
    running_and_ready(cluster, name, 2)


@pytest.mark.parametrize("runtime", ["native", "spin"])
def test_a_tenant_whose_inputs_are_gone_is_pruned(cluster, runtime):
    first, _, _ = deploy(cluster, runtime, "leaving", replicas=1)
    running_and_ready(cluster, first, 1)
    assert helm_releases(cluster, first)

    # The tenant provider names another tenant: flux-operator garbage-collects the first one's
    # Namespace (with its executor), OCIRepository and HelmRelease, and helm-controller
    # uninstalls its release. For Spin, the second tenant's SpinApp runs meanwhile: with one
    # executor name for both, spin-operator v0.6.1 would keep the first executor for it (its
    # issue 480), and the first namespace would stay Terminating.
    second, _, _ = deploy(cluster, runtime, "staying", replicas=1)

    def pruned(name):
        return lambda: (
            not any(
                (
                    exists(cluster, "ocirepository", name, FLUX),
                    exists(cluster, "helmrelease", name, FLUX),
                    exists(cluster, "namespace", name),
                    helm_releases(cluster, name),
                )
            )
        )

    wait(f"{first}: OCIRepository, HelmRelease, release and namespace gone", pruned(first), timeout=180)
    running_and_ready(cluster, second, 1)
    if runtime == "spin":
        assert exists(cluster, "spinappexecutor", second, second)
    resourceset = cluster.get("resourceset", "hello-world", namespace=FLUX)
    inventory = [entry["id"] for entry in resourceset["status"]["inventory"]["entries"]]
    assert not [i for i in inventory if first in i] and [i for i in inventory if second in i], inventory

    # The tenant removed from the fleet: the harness's objects deleted, as Flux's Kustomization
    # prunes them when they leave the repository. The ResourceSet's finalizer prunes the rest.
    kinds = [
        (o["kind"], o["metadata"]["name"])
        for o in yaml.safe_load_all(kustomize())
        if o and o["kind"] in ("ResourceSet", "ResourceSetInputProvider")
    ]
    for kind, obj in kinds:
        cluster.kubectl("delete", kind.lower(), obj, "-n", FLUX, "--wait=false")
    wait(f"{second}: OCIRepository, HelmRelease, release and namespace gone", pruned(second), timeout=180)
    print(
        f"pruned ({runtime}): {first} (inputs replaced, while {second} ran), then {second} (harness removed): "
        "no OCIRepository, HelmRelease, Helm release or namespace left"
    )


def test_a_chart_that_cannot_be_installed_fails_the_release_and_says_why(cluster):
    name = apply_tenant(
        cluster, "native", "broken", replicas=1, values={"shutdown": {"drainDelaySeconds": -1, "timeoutSeconds": 25}}
    )
    reconcile_sources(cluster, name)

    def failed():
        release = cluster.get("helmrelease", name, namespace=FLUX)
        ready = condition(release)
        return release if ready.get("status") == "False" and ready.get("reason") == "InstallFailed" else None

    release = wait(f"HelmRelease {name} failed", failed, timeout=120)
    message = condition(release)["message"]
    print(f"failed install: Ready=False, {condition(release)['reason']}: {message[:200]}")
    assert "/shutdown/drainDelaySeconds" in message
    (event, *_) = events_for(cluster, FLUX, "InstallFailed", name)
    assert "/shutdown/drainDelaySeconds" in event["message"]
    assert not exists(cluster, "deployment", "hello-world-deployment", name)

    # Fixed values install the release.
    name, _, release = deploy(cluster, "native", "broken", replicas=1, values={})
    running_and_ready(cluster, name, 1)


@pytest.fixture(scope="module")
def private(cluster):
    """A second registry that requires a login, holding the release's image and chart."""
    registry = Registry(cluster.dir, "private-registry", login=("tenant", "pull-only-s3cret"))
    registry.start(cluster.processes)
    cluster.node.pull_over_http(registry.address)
    version = cluster.release["APP_IMAGE_VERSION"]
    registry.copy_from(
        cluster.registry, [f"hello-world:{version}", f"charts/hello-world:{cluster.release['APP_CHART_VERSION']}"]
    )
    return registry


def test_a_registry_that_requires_a_login_is_pulled_from_with_the_pull_secret(cluster, private):
    version = cluster.release["APP_IMAGE_VERSION"]
    # Without the login, the registry refuses.
    with tempfile.TemporaryDirectory() as empty, pytest.raises(StepFailed, match=r"UNAUTHORIZED|401"):
        crane("digest", f"{private.address}/hello-world:{version}", env={"DOCKER_CONFIG": empty})

    name, repo, _ = deploy(
        cluster,
        "native",
        "private",
        replicas=1,
        pull_secret=private.docker_config(),
        APP_IMAGE_REGISTRY=private.address,
        APP_CHART_REGISTRY=f"{private.address}/charts",
    )
    assert repo["spec"]["url"].startswith(f"oci://{private.address}/")
    (pod,) = running_and_ready(cluster, name, 1)
    ref = f"{private.address}/hello-world:{version}"
    assert pod["spec"]["containers"][0]["image"] == ref
    # The kubelet pulled that ref, logged in (its status may name the same image by another
    # registry's ref when containerd holds that digest already, so the event is what counts).
    pulls = [e["message"] for e in events_for(cluster, name, "Pulled")]
    assert any(f'Successfully pulled image "{ref}"' in message for message in pulls), pulls
    secret = cluster.get("secret", "image-pull-secret", namespace=name)
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert json.loads(base64.b64decode(secret["data"][".dockerconfigjson"])) == private.docker_config()
    print(
        f"private registry {private.address}: chart pulled by source-controller with flux-system/image-pull-secret, "
        f"image pulled by the kubelet with {name}/image-pull-secret (rendered by the chart)"
    )
