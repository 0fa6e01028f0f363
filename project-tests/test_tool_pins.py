"""The tool pins stand once, in tools/versions.toml: scripts/lib.sh and the harness read them,
and what else names a version (the wrapper modules, CI's k3d job, the README and the docs) is
tied to them here."""

import json
import os
import pathlib
import re
import subprocess

import yaml

from harness.processes import TOOLS
from harness.tools import MANIFEST, pins
from harness.workspace import ROOT

# How the README and the docs name each tool before its version ("Traefik v3.6.12",
# "flux-operator `v0.58.0`").
NAMES = {
    "helm": ["Helm"],
    "flux-operator": ["flux-operator", "flux-operator's controller", "flux-operator's CLI"],
    "kubernetes": ["Kubernetes", "kubectl", "kube-proxy", "kube-apiserver"],
    "etcd": ["etcd"],
    "spin-operator": ["spin-operator"],
    "cert-manager": ["cert-manager"],
    "traefik": ["Traefik"],
    "gateway-api": ["Gateway API CRDs", "Gateway API"],
    "containerd": ["containerd"],
    "runc": ["runc"],
    "cni-plugins": ["CNI plugins", "the CNI plugins"],
    "registry": ["distribution's registry", "registry"],
    "crane": ["crane"],
    "metrics-server": ["metrics-server"],
    "kube-router": ["kube-router"],
    "flux": ["Flux"],
    "source-controller": ["source-controller"],
    "helm-controller": ["helm-controller"],
    "containerd-shim-spin": ["containerd-shim-spin"],
    "mermaid": ["Mermaid", "mermaid"],
    "cargo-fuzz": ["cargo-fuzz"],
    "cosign": ["cosign"],
    "syft": ["syft"],
    "cargo-auditable": ["cargo-auditable", "cargo auditable"],
    "cargo-cyclonedx": ["cargo-cyclonedx"],
    "actionlint": ["actionlint"],
}
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "site" / "docs").glob("*.md"))]


def test_the_manifest_keeps_to_what_lib_sh_reads_and_lib_sh_reads_it_all():
    for number, line in enumerate(MANIFEST.read_text().splitlines(), 1):
        assert re.fullmatch(r"(#.*)?|\[[a-z0-9-]+\]|[a-z0-9_]+ = \"[^\"]*\"", line), f"versions.toml:{number}: {line}"
    expected = {
        f"{tool.upper().replace('-', '_')}_{key.upper()}": value
        for tool, pin in pins().items()
        for key, value in pin.items()
    }
    script = ". scripts/lib.sh; " + "; ".join(f'printf "%s=%s\\n" {name} "${name}"' for name in expected)
    read = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert dict(line.split("=", 1) for line in read.splitlines()) == expected


def test_lib_sh_writes_no_version_or_checksum_of_its_own():
    literal = re.compile(r"^\s*[A-Z_]+(VERSION|SHA256|_WHEEL|_PACKAGE)[A-Z_]*=\"?[\w.@/=-]+\"?$", re.M)
    assert literal.findall((ROOT / "scripts" / "lib.sh").read_text()) == []


def test_each_wrapper_module_requires_its_tool_at_the_pinned_version():
    wrappers = [pin for pin in pins().values() if pin.get("wrapper", "").startswith("tools/go/")]
    assert wrappers, "the Go tools built through wrapper modules"
    for pin in wrappers:
        go_mod = (ROOT / pin["wrapper"] / "go.mod").read_text()
        required = re.findall(rf"^\s*(?:require\s+)?{re.escape(pin['module'])} (v\S+)", go_mod, re.M)
        assert required == [pin["version"]], (
            f"{pin['wrapper']}/go.mod requires {pin['module']} {required}, pinned {pin['version']}"
        )


def test_the_k3d_job_runs_the_shim_it_pins():
    job = yaml.safe_load((ROOT / ".github" / "workflows" / "CI.yaml").read_text())["jobs"]["cluster"]
    assert job["env"]["SHIM_K3D_IMAGE"].endswith(f":{pins()['containerd-shim-spin']['version']}")


def test_the_readme_and_the_docs_name_each_tool_at_its_pinned_version():
    wrong = []
    for tool, names in NAMES.items():
        want = pins()[tool]["version"].removeprefix("v")
        for name in sorted(names, key=len, reverse=True):
            pattern = re.compile(rf"(?<![\w-]){re.escape(name)}`?,?\s+`?v?(\d+\.\d+\.\d+)\b")
            for doc in DOCS:
                for match in pattern.finditer(doc.read_text()):
                    if match.group(1) != want:
                        wrong.append(f"{doc.relative_to(ROOT)}: {match.group(0)!r} (pinned: {want})")
    assert wrong == []


def test_every_binary_the_cluster_reads_is_one_lib_sh_exports():
    # harness.processes.TOOLS names the environment variables the loopback cluster reads its
    # binaries from; ensure_loopback_cluster exports them.
    lib_sh = (ROOT / "scripts" / "lib.sh").read_text()
    body = lib_sh.split("ensure_loopback_cluster() {", 1)[1].split("\n}\n", 1)[0]
    exported = set(re.findall(r"\b([A-Z][A-Z_]+)(?:=|\s|$)", body.split("export", 1)[1]))
    assert set(TOOLS.values()) <= exported, sorted(set(TOOLS.values()) - exported)


def test_the_flux_controllers_are_the_pinned_flux_releases():
    # flux2's manifests/bases name each controller's release manifests at the release's version.
    downloaded = subprocess.run(
        ["go", "mod", "download", "-json", f"{pins()['flux']['module']}@{pins()['flux']['version']}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"},
    )
    bases = pathlib.Path(json.loads(downloaded.stdout)["Dir"]) / "manifests" / "bases"
    for controller in ("source-controller", "helm-controller"):
        kustomization = (bases / controller / "kustomization.yaml").read_text()
        released = re.findall(rf"{controller}/releases/download/(v[\d.]+)/", kustomization)
        assert set(released) == {pins()[controller]["version"]}, (controller, released)
