"""The GitHub workflows as a maintainer reads them before the first push: each job has the Go it
builds with, the cluster job pins what it runs and deploys through Flux as production does."""

import re

import yaml

from harness.chain.deliver import harness
from harness.chain.render import harness_env, kustomize, render_resourceset, substitute
from harness.cluster_api import ClusterAPI, release_of
from harness.kube import load_all, the, validate
from harness.tools import version
from harness.workspace import ROOT

WORKFLOW_FILES = sorted((ROOT / ".github" / "workflows").glob("*.yaml"))
WORKFLOWS = {p.name: yaml.safe_load(p.read_text()) for p in WORKFLOW_FILES}
# `uses: owner/repo[/path]@ref # comment`, as written: YAML drops the comment.
USES = re.compile(r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?:\s+#\s*(?P<comment>.*?))?\s*$")
# What reaches a Go build: Helm, kubectl and the cluster's parts are built from their modules.
GO_BUILDS = ("ensure_helm", "ensure_kubectl", ".ci/run", "mise run push", "ci_release", "mise run build")


def jobs():
    for workflow, spec in WORKFLOWS.items():
        for name, job in spec["jobs"].items():
            yield f"{workflow}:{name}", job


def runs(job) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def steps():
    for name, job in jobs():
        for step in job["steps"]:
            yield name, step


def test_every_job_that_builds_with_go_sets_up_go_1_26():
    for name, job in jobs():
        if any(trigger in runs(job) for trigger in GO_BUILDS):
            setups = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-go@")]
            assert setups and str(setups[0]["with"]["go-version"]).startswith("1.26"), name


def test_the_release_builds_its_pages_with_the_published_docs_as_canonical_url():
    # mkdocs' site_url defaults to http://localhost:8000/ (site/mkdocs.yml): every page the
    # release serves would name that as its canonical URL.
    published = WORKFLOWS["site.yaml"]["jobs"]["deploy"]["env"]["SITE_URL"]
    assert published.startswith("https://")
    assert WORKFLOWS["release.yaml"]["jobs"]["publish"]["env"]["SITE_URL"] == published


def test_the_test_job_may_start_a_node():
    assert "--privileged" in WORKFLOWS["CI.yaml"]["jobs"]["test"]["container"]["options"]


def test_the_cluster_job_pins_every_download_and_image():
    job = WORKFLOWS["CI.yaml"]["jobs"]["cluster"]
    env = job["env"]
    assert re.fullmatch(r"[0-9a-f]{64}", env["K3D_SHA256"])
    assert "sha256sum -c" in runs(job)
    for key, value in env.items():
        if key.endswith("_IMAGE"):
            assert re.search(r":[\w.-]+$", value) and not value.endswith(":latest"), f"{key}={value}"
    assert not re.search(r"curl[^\n]*\|\s*(ba)?sh", runs(job)), "nothing is piped from the network into a shell"
    assert "/main/" not in runs(job)


def test_the_cluster_job_delivers_through_flux_with_the_projects_push():
    job = WORKFLOWS["CI.yaml"]["jobs"]["cluster"]
    text = runs(job)
    # The Flux release the e2e runs (tools/versions.toml's FLUX_VERSION), and flux-operator.
    assert "flux2/releases/download/$FLUX_VERSION/install.yaml" in text and "flux-operator" in text
    assert "bin/mise run push" in text
    assert 'helm install "hw-' not in text and "charts/hello-world" not in text, (
        "the chart comes from the registry, through Flux"
    )
    # The e2e's chain (harness.chain), not a copy of it.
    order = re.findall(r"-m harness\.chain (deliver \w+|probe)", text)
    assert order == ["deliver spin", "probe", "deliver native", "probe"]


def test_the_cluster_jobs_harness_is_the_e2es_with_a_self_signed_issuer_and_a_plain_http_chart_registry():
    api = ClusterAPI(
        ROOT / "no-kubeconfig", issuer={"selfSigned": {}}, release=release_of("k3d-hw-registry:5000", "0.1.0")
    )
    objects = harness(api, "spin", "acme")
    production = load_all(substitute(kustomize(), harness_env()))
    assert sorted((o["kind"], o["metadata"]["name"]) for o in objects) == sorted(
        (o["kind"], o["metadata"]["name"]) for o in production
    )
    assert the(objects, "ClusterIssuer")["spec"] == {"selfSigned": {}}
    assert the(objects, "ResourceSet") == the(production, "ResourceSet")
    generated = render_resourceset(the(objects, "ResourceSet"), objects)
    repository = the(generated, "OCIRepository")
    assert repository["spec"]["insecure"] is True
    assert repository["spec"]["url"] == "oci://k3d-hw-registry:5000/charts/hello-world"
    for obj in generated:
        validate(obj)


def test_the_cluster_job_runs_the_e2es_ingress_controller_and_no_retired_one():
    # ingress-nginx was retired in March 2026; the job runs the e2e's Traefik objects at the
    # version scripts/lib.sh pins, and Gateway API's CRDs at the e2e's version.
    text = runs(WORKFLOWS["CI.yaml"]["jobs"]["cluster"])
    assert "ingress-nginx" not in text
    assert (
        "-m harness.loopback_cluster.ingress_controller controller" in text
        and '"docker.io/library/traefik:$TRAEFIK_VERSION"' in text
    )
    assert "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" in text
    assert ". scripts/lib.sh" in text
    assert ".github/cluster" not in text, "no copy of the chain in bash"


def test_every_task_runs_through_bin_mise_and_its_pinned_mise():
    # jdx/mise-action installs a mise of its own choosing; bin/mise runs the version
    # tools/versions.toml pins.
    for name, step in steps():
        assert not step.get("uses", "").startswith("jdx/mise-action@"), name
        for line in step.get("run", "").splitlines():
            assert not re.search(r"(?<!bin/)\bmise (run|tasks|install)\b", line), f"{name}: {line}"


def test_no_workflow_installs_a_spin_cli():
    # The Spin artifact is pushed with spin-registry-push, Spin v3.6.3's own OCI client, the
    # version SpinKube's shim runs; a Spin CLI from an installer would be whatever is newest.
    for name, step in steps():
        assert not re.match(r"(fermyon|spinframework)/", step.get("uses", "")), f"{name}: {step['uses']}"
        text = step.get("run", "")
        assert not re.search(r"\bspin (registry|plugins?|build|up|deploy|cloud|templates)\b", text), name
        assert not re.search(r"(fermyon|spinframework)\.(com|dev)/downloads", text), name


def test_every_action_is_pinned_to_a_commit_with_its_version_in_a_comment():
    # A tag can be moved to other code; a commit cannot. The comment says which release it is.
    pinned = {}
    lines = [
        (f"{path.name}:{number}", line)
        for path in WORKFLOW_FILES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.match(r"^\s*(-\s+)?uses:", line)
    ]
    assert len(lines) == sum(1 for _, step in steps() if "uses" in step)
    for where, line in lines:
        match = USES.match(line)
        assert match and re.fullmatch(r"[0-9a-f]{40}", match["ref"]), f"{where}: {line.strip()}"
        if match["action"] == "dtolnay/rust-toolchain":
            # No tags there: the commit of its branch named after the toolchain tools/versions.toml pins.
            assert match["comment"] == version("rust"), f"{where}: {line.strip()}"
        else:
            assert re.fullmatch(r"v\d+\.\d+\.\d+", match["comment"] or ""), f"{where}: {line.strip()}"
        first = pinned.setdefault(match["action"], (match["ref"], match["comment"]))
        assert first == (match["ref"], match["comment"]), f"{where}: {match['action']} pinned twice"


def test_every_rust_toolchain_is_the_pinned_one_but_ci_s_stable_canary():
    for name, job in jobs():
        for step in job["steps"]:
            if not step.get("uses", "").startswith("dtolnay/rust-toolchain@"):
                continue
            toolchain = str(step.get("with", {}).get("toolchain", ""))
            if toolchain == "${{ matrix.toolchain }}":
                legs = {leg["situation"]: leg["toolchain"] for leg in job["strategy"]["matrix"]["include"]}
                assert version("rust") in legs.values(), name
                assert all(t == version("rust") or (t == "stable" and "stable" in s) for s, t in legs.items()), legs
            else:
                assert toolchain == version("rust"), f"{name}: toolchain {toolchain!r}"
