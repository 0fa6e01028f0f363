"""One version everywhere: Cargo.toml's, and every file and artifact named after it."""

import json
import os
import re
import shutil
import subprocess
import tomllib

import yaml

from harness.chain.render import helm_template
from harness.workspace import ROOT, VERSION_FILES, cargo_version, written_versions

# The project's version tool, run on the git repository of the current directory.
PROJECT_VERSION = [
    "cargo",
    "run",
    "--quiet",
    "--manifest-path",
    str(ROOT / "Cargo.toml"),
    "-p",
    "project-version",
    "--",
]


def plan(cwd=ROOT, **env) -> dict:
    result = subprocess.run(
        [*PROJECT_VERSION, "plan"], cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_file_carries_the_crate_version():
    version = cargo_version()
    found = written_versions()
    metadata = json.loads(
        subprocess.check_output(["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"], cwd=ROOT)
    )
    crates = {f"Cargo.lock {p['name']}" for p in metadata["packages"]}
    assert crates == {k for k in found if k.startswith("Cargo.lock")}
    disagree = {where: v for where, v in found.items() if v != version}
    assert not disagree, (
        f"Cargo.toml says {version}; these disagree (run `cargo run -p project-version -- sync`): {disagree}"
    )


def test_every_crate_takes_the_workspace_version():
    metadata = json.loads(
        subprocess.check_output(["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"], cwd=ROOT)
    )
    versions = {p["name"]: p["version"] for p in metadata["packages"]}
    assert versions == {name: cargo_version() for name in versions}


def test_release_artifacts_are_named_after_the_version():
    version = cargo_version()
    p = plan()
    assert p["version"] == p["git_tag"] == version
    assert p["assets"] == {
        "chart": f"dist/hello-world-{version}.tgz",
        "site": f"dist/site-{version}.tar.gz",
        "wasm": f"dist/hello-world-{version}.wasm",
    }
    # Only the version's own tag: a moving tag (`latest`) would let one name pull other bytes.
    for refs in (p["native_images"], p["spin_artifacts"]):
        assert [ref.rsplit(":", 1)[1] for ref in refs] == [version]
    assert p["chart"].endswith(f"/hello-world:{version}")


def test_build_plan_is_the_version_plan():
    result = subprocess.run([str(ROOT / "mise-tasks" / "build"), "--plan"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == plan()


def test_the_chart_names_artifacts_as_the_release_does():
    p = plan(IMAGE_REGISTRY="registry.example.com/team")
    for runtime, kind, refs in (("spin", "SpinApp", p["spin_artifacts"]), ("native", "Deployment", p["native_images"])):
        objects = helm_template(
            "hello-world",
            "hello-world",
            {"runtime": runtime, "image": {"registry": "registry.example.com/team", "name": "hello-world"}},
        )
        obj = next(o for o in objects if o["kind"] == kind)
        image = obj["spec"]["image"] if kind == "SpinApp" else obj["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image == refs[0], f"{runtime}: chart pulls {image}, release pushes {refs[0]}"


def test_registry_defaults_agree():
    p = plan()
    registry = p["native_images"][0].rsplit("/hello-world:", 1)[0]
    values = yaml.safe_load((ROOT / "charts/hello-world/values.yaml").read_text())
    harness = tomllib.loads((ROOT / "deployment/test/inputs.toml").read_text())["env"]
    assert values["image"]["registry"] == registry == harness["APP_IMAGE_REGISTRY"]
    assert p["chart_repository"] == f"oci://{harness['APP_CHART_REGISTRY']}"


def test_sync_repairs_drift_and_is_idempotent(tmp_path):
    for name in VERSION_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    chart = tmp_path / "charts/hello-world/Chart.yaml"
    chart.write_text(re.sub(r"(?m)^appVersion: .*$", 'appVersion: "9.9.9"', chart.read_text()))
    assert written_versions(tmp_path)["Chart.yaml appVersion"] == "9.9.9"
    sync = [*PROJECT_VERSION, "sync"]
    subprocess.run(sync, cwd=tmp_path, check=True)
    assert set(written_versions(tmp_path).values()) == {cargo_version()}
    before = {name: (tmp_path / name).read_text() for name in VERSION_FILES}
    subprocess.run(sync, cwd=tmp_path, check=True)
    assert before == {name: (tmp_path / name).read_text() for name in VERSION_FILES}
    # Comments survive: the files are edited in place, not re-serialized.
    assert "# version and appVersion are the project's one version" in chart.read_text()
