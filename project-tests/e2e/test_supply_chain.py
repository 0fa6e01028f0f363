"""Only what we built runs (site/docs/supply-chain.md), shown on the loopback cluster:

- `mise run push` signed every artifact it published, and attached the SBOMs as signed
  attestations, which `cosign verify` and `cosign verify-attestation` accept with the public key;
- the SBOMs list what was built: the crates of Cargo.lock that runtime-shim and the component
  link, at their versions, and the Debian packages of the image's libraries;
- Flux verifies: a tenant whose cluster input `verify` names the release's public key installs
  the signed chart; the same tag pushed again unsigned, then signed by another key, is refused
  by source-controller while the release stays and its pods keep serving through the ingress;
  signed again by the release key, it is taken by itself.
"""

import json
import os
import shutil
import subprocess
import time
import tomllib

import pytest

from harness.chain.deliver import FLUX, condition, deploy, events_for, latest_release, pinned, running_and_ready, wait
from harness.load import loading, totals
from harness.loopback_cluster.ingress_controller import https, serving
from harness.loopback_cluster.registry import crane
from harness.processes import StepFailed, tool
from harness.signing import SigningKey
from harness.site import pages_of
from harness.workspace import ROOT

# Locked crates that neither runtime links: a test dependency, and the compressor that runs at
# build time only (the site's variants are compressed into the artifact).
NOT_LINKED = ["proptest", "brotli"]


def release_ref(cluster, repository: str) -> str:
    """`repository` of the cluster's release (hello-world, hello-world-spin, charts/hello-world)
    by its digest, as push signed it."""
    version = cluster.release["APP_IMAGE_VERSION"]
    ref = f"{cluster.registry.address}/{repository}"
    return pinned(f"{ref}:{version}")


def locked_versions() -> dict[str, set[str]]:
    versions: dict[str, set[str]] = {}
    for package in tomllib.loads((ROOT / "Cargo.lock").read_text())["package"]:
        versions.setdefault(package["name"], set()).add(package["version"])
    return versions


def linked_crates(package: str, target: str) -> dict[str, str]:
    """The crates `package` links on `target`, as cargo resolves them from Cargo.lock (normal
    dependencies: no build scripts' or tests'): name -> version."""
    tree = subprocess.run(
        [
            "cargo",
            "tree",
            "--locked",
            "-p",
            package,
            "-e",
            "normal,no-proc-macro",
            "--target",
            target,
            "--prefix",
            "none",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line.split()[0]: line.split()[1].removeprefix("v") for line in tree.splitlines() if line.strip()}


def assert_lists(sbom: dict, crates: dict[str, str]):
    listed, locked = components(sbom), locked_versions()
    missing = {name: version for name, version in crates.items() if version not in listed.get(name, set())}
    assert missing == {}, f"linked but not in the SBOM at its Cargo.lock version: {missing}"
    assert all(version in locked[name] for name, version in crates.items())
    assert [name for name in NOT_LINKED if name in listed] == []


def components(sbom: dict) -> dict[str, set[str]]:
    """Every component of a CycloneDX SBOM (the one it describes, and nested ones too): name ->
    versions."""
    found: dict[str, set[str]] = {}
    pending = [*sbom.get("components", []), *filter(None, [sbom.get("metadata", {}).get("component")])]
    while pending:
        component = pending.pop()
        found.setdefault(component["name"], set()).add(component.get("version", ""))
        pending += component.get("components", [])
    return found


@pytest.mark.parametrize("repository", ["hello-world", "hello-world-spin", "charts/hello-world"])
def test_every_artifact_push_published_is_signed_with_the_release_key(cluster, repository, tmp_path):
    ref = release_ref(cluster, repository)
    (payload, *_) = cluster.signing_key.verify(ref)
    assert payload["critical"]["image"]["docker-manifest-digest"] == ref.split("@")[1]
    with pytest.raises(StepFailed, match=r"no signatures found|no matching signatures|failed to verify"):
        SigningKey(tmp_path / "other", "other").verify(ref)
    print(f"cosign verify {repository}: signed by the release key; another key's verify refuses it")


def test_the_native_images_sbom_lists_the_linked_crates_and_the_debian_packages(cluster):
    sbom = cluster.signing_key.attested_sbom(release_ref(cluster, "hello-world"))
    crates = linked_crates("runtime-shim", "x86_64-unknown-linux-gnu")
    assert {"hyper", "tokio", "http", "prometheus-client"} <= crates.keys()
    assert_lists(sbom, crates)
    listed = components(sbom)
    for package in ("libc6", "libgcc-s1"):
        installed = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=True
        ).stdout
        assert installed in listed.get(package, set()), f"{package}: SBOM {listed.get(package)}, Debian {installed}"
    print(
        f"native image SBOM (syft, attested): {len(listed)} components, all {len(crates)} crates runtime-shim "
        f"links at their Cargo.lock versions (hyper {crates['hyper']}, tokio {crates['tokio']}), "
        f"libc6 {sorted(listed['libc6'])[0]}, libgcc-s1 {sorted(listed['libgcc-s1'])[0]}"
    )


def test_the_components_sbom_lists_the_crates_it_links_for_wasm32_wasip2(cluster):
    sbom = cluster.signing_key.attested_sbom(release_ref(cluster, "hello-world-spin"))
    crates = linked_crates("hello-world-component", "wasm32-wasip2")
    assert {"hello-world", "site-table", "wit-bindgen-rt"} <= crates.keys()
    assert_lists(sbom, crates)
    # The native server's runtime is not in the component.
    assert "tokio" not in components(sbom)
    print(f"component SBOM (cargo-cyclonedx, attested): all {len(crates)} crates it links for wasm32-wasip2")


@pytest.fixture
def verifying_tenant(cluster):
    """The release's public key in flux-system, and a tenant whose cluster input `verify`
    names it."""
    cluster.kubectl(
        "create",
        "secret",
        "generic",
        "release-signing-key",
        "-n",
        FLUX,
        f"--from-file=cosign.pub={cluster.signing_key.public}",
    )
    return {"cluster_inputs": {"verify": {"publicKeySecret": "release-signing-key"}}}


def verification(cluster, name: str, want: str, since: str = "") -> dict:
    """Waits until the tenant's OCIRepository reports SourceVerified `want` (True/False) in a
    reconciliation after `since`; returns the OCIRepository."""

    def reported():
        repo = cluster.get("ocirepository", name, namespace=FLUX)
        verified = condition(repo, "SourceVerified")
        return repo if verified.get("status") == want and verified.get("lastTransitionTime", "") > since else None

    return wait(f"OCIRepository {name} SourceVerified={want}", reported, timeout=300)


def request_reconcile(cluster, name: str):
    cluster.kubectl(
        "annotate",
        "--overwrite",
        "ocirepository",
        name,
        "-n",
        FLUX,
        f"reconcile.fluxcd.io/requestedAt={time.time_ns()}",
    )


def test_flux_installs_the_signed_chart_refuses_a_tampered_tag_while_the_pods_serve_and_recovers(
    cluster, verifying_tenant, tmp_path
):
    name, repo, release = deploy(cluster, "native", "signed", replicas=2, **verifying_tenant)
    verified = condition(repo, "SourceVerified")
    assert verified["status"] == "True", verified
    revision, artifact = latest_release(release)["version"], repo["status"]["artifact"]["revision"]
    running_and_ready(cluster, name, 2)
    print(f"signed chart: SourceVerified=True ({verified['message']}); release revision {revision} installed")
    host = serving(cluster, name, "hello-world")

    # An attacker with write access to the registry moves the chart's tag to a chart of theirs.
    version = cluster.release["APP_CHART_VERSION"]
    chart = tmp_path / "chart"
    shutil.copytree(ROOT / "charts" / "hello-world", chart)
    (chart / "templates" / "tampered.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tampered\ndata:\n  by: someone-else\n"
    )
    helm = tool("helm")
    subprocess.run(
        [helm, "package", str(chart), "--version", version, "-d", str(tmp_path)], check=True, capture_output=True
    )
    charts = cluster.release["APP_CHART_REGISTRY"]
    with loading(lambda: https(cluster, host), pages_of(ROOT / "site" / "build"), 2, host) as clients:
        time.sleep(2)
        subprocess.run(
            [helm, "push", str(tmp_path / f"hello-world-{version}.tgz"), f"oci://{charts}", "--plain-http"],
            check=True,
            capture_output=True,
        )
        tampered = pinned(f"{charts}/hello-world:{version}")
        moved = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
        request_reconcile(cluster, name)
        refused = verification(cluster, name, "False", since=moved)
        unsigned = condition(refused, "SourceVerified")
        print(f"unsigned chart at the tag: SourceVerified=False, {unsigned['reason']}: {unsigned['message'][:160]}")

        # Signed, but by a key that is not the release's.
        SigningKey(tmp_path / "other", "other").sign(tampered)
        request_reconcile(cluster, name)
        time.sleep(10)
        other = condition(cluster.get("ocirepository", name, namespace=FLUX), "SourceVerified")
        assert other["status"] == "False", other
        print(f"chart signed by another key: SourceVerified=False, {other['reason']}: {other['message'][:160]}")
        release = cluster.get("helmrelease", name, namespace=FLUX)
        assert latest_release(release)["version"] == revision
        repo = cluster.get("ocirepository", name, namespace=FLUX)
        assert repo["status"]["artifact"]["revision"] == artifact, "the verified artifact is kept"
        running_and_ready(cluster, name, 2)

        # The release key signs it: source-controller, retrying on its own, takes it.
        signed_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
        cluster.signing_key.sign(tampered)
        repo = verification(cluster, name, "True", since=signed_at)
        assert repo["status"]["artifact"]["revision"] == f"{version}@{tampered.split('@')[1]}"

        def upgraded():
            release = cluster.get("helmrelease", name, namespace=FLUX)
            latest = latest_release(release)
            return release if latest.get("version", 0) > revision and latest.get("status") == "deployed" else None

        release = wait(f"HelmRelease {name} past revision {revision}", upgraded, timeout=180)
        running_and_ready(cluster, name, 2)
        time.sleep(2)
    counts = totals(clients)
    print(
        f"signed again: recovered by itself, revision {revision} -> {latest_release(release)['version']}; "
        f"the probe through the ingress meanwhile: {counts['pages']} pages and {counts['assets']} assets, "
        f"{counts['5xx']} 5xx, {counts['resets']} resets, {counts['asset 404s']} asset 404s"
    )
    assert counts["pages"] > 0 and counts["5xx"] == counts["resets"] == counts["asset 404s"] == 0, counts
    assert json.loads(cluster.kubectl("get", "configmap", "tampered", "-n", name, "-o", "json").stdout)


def test_the_node_pulls_the_signed_release_and_refuses_an_unsigned_image_of_its_repository(cluster):
    registry, version = cluster.registry.address, cluster.release["APP_IMAGE_VERSION"]
    signed, unsigned = f"{registry}/hello-world:{version}", f"{registry}/hello-world:unsigned"
    # The release's image with one label more: another digest, which nobody signed.
    crane("mutate", "--label", "built-by=someone-else", "--tag", unsigned, signed)
    namespace = "admission"
    cluster.kubectl("create", "namespace", namespace)
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "containers": [{"name": "site", "image": image, "imagePullPolicy": "Always"}],
                "securityContext": {"runAsNonRoot": True},
            },
        }
        for name, image in (("signed", signed), ("unsigned", unsigned))
    ]
    cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}))

    def refused():
        failed = [e["message"] for e in events_for(cluster, namespace, "Failed", "unsigned")]
        return next((m for m in failed if "rejected image" in m), None)

    verdict = wait("the unsigned image refused by the node's image verifier", refused, timeout=120)
    signed_pod = wait(
        "the signed release's pod Running",
        lambda: (lambda p: p if p["status"].get("phase") == "Running" else None)(
            cluster.get("pod", "signed", namespace=namespace)
        ),
        timeout=120,
    )
    unsigned_pod = cluster.get("pod", "unsigned", namespace=namespace)
    waiting = unsigned_pod["status"]["containerStatuses"][0]["state"].get("waiting", {})
    assert waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff"), waiting
    assert "not signed by" in verdict, verdict
    print(
        f"admission on the node: {signed} admitted (pod {signed_pod['status']['phase']}); "
        f"{unsigned} refused: {verdict[verdict.index('rejected image') :][:300]}"
    )
    cluster.kubectl("delete", "namespace", namespace, "--wait=false")


def push(*parts: str, env: dict) -> subprocess.CompletedProcess:
    """`mise-tasks/push` of `parts` over plain HTTP, with `env` (no COSIGN_PASSWORD unless it
    names one)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("COSIGN_")}
    return subprocess.run(
        [str(ROOT / "mise-tasks" / "push"), *parts],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**inherited, "REGISTRY_PLAIN_HTTP": "true", **env},
    )


def test_push_refuses_to_publish_a_version_again(cluster):
    chart = f"{cluster.registry.address}/charts/hello-world:{cluster.release['APP_CHART_VERSION']}"
    before = crane("digest", chart)
    result = push("chart", env={**cluster.signing_key.env(), "IMAGE_REGISTRY": cluster.registry.address})
    assert result.returncode == 1
    assert f"{chart} is published already" in result.stderr and "bump_version" in result.stderr
    assert crane("digest", chart) == before
    print(f"push again: refused, {chart} unchanged")


def test_push_with_a_signing_key_but_no_password_publishes_nothing(cluster):
    registry = f"{cluster.registry.address}/nothing-published"
    result = push(env={"COSIGN_KEY": str(cluster.signing_key.key), "IMAGE_REGISTRY": registry})
    assert result.returncode == 1
    assert "COSIGN_PASSWORD: the signing key's password" in result.stderr
    with pytest.raises(StepFailed, match=r"NAME_UNKNOWN|MANIFEST_UNKNOWN|404"):
        crane("digest", f"{registry}/hello-world:{cluster.release['APP_IMAGE_VERSION']}")
    print(f"push with COSIGN_KEY but no COSIGN_PASSWORD: refused before publishing: {result.stderr.splitlines()[1]}")
