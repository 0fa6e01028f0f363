"""The mise tasks, and the lints of workflows and scripts."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from harness.ports import free_port
from harness.workspace import ROOT

# The seed's task names, then ours.
TASKS = {
    "docs-build",
    "docs-serve",
    "docs-versions",
    "build",
    "push",
    "ci_release",
    "bump_version",
    "release",
    "serve",
    "up",
    "test",
    "test:rust",
    "test:wasm",
    "test:deploy",
    "test:rolling-update",
    "e2e",
    "fuzz",
    "bench",
    "test:workflow",
    "cluster",
}
TASK_FILES = sorted(p for p in (ROOT / "mise-tasks").rglob("*") if p.is_file())
SHELL_SCRIPTS = sorted(
    [p for p in TASK_FILES if p.read_text().startswith("#!/usr/bin/env bash")]
    + [
        ROOT / "scripts" / "lib.sh",
        ROOT / "scripts" / "push-image",
        ROOT / "scripts" / "push-spin-app",
        ROOT / "bin" / "mise",
        ROOT / ".ci" / "run",
    ]
)


def mise(*args) -> subprocess.CompletedProcess:
    executable = os.environ.get("MISE") or shutil.which("mise")
    if not executable:
        pytest.skip("mise is not installed (test:deploy installs it and sets MISE)")
    env = {**os.environ, "MISE_TRUSTED_CONFIG_PATHS": str(ROOT), "MISE_YES": "1"}
    return subprocess.run([executable, *args], cwd=ROOT, capture_output=True, text=True, env=env)


def task(name: str) -> dict:
    result = mise("tasks", "info", name, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def tasks() -> list:
    result = mise("tasks", "ls", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_task_is_defined():
    names = {t["name"] for t in tasks()} | {a for t in tasks() for a in t.get("aliases", [])}
    assert names >= TASKS, f"missing: {TASKS - names}"


def test_every_task_is_a_file_in_mise_tasks_with_a_description():
    listed = tasks()
    assert all(t["description"] for t in listed), [t["name"] for t in listed if not t["description"]]
    assert {pathlib.Path(t["file"]) for t in listed} == set(TASK_FILES)
    assert "[tasks" not in (ROOT / "mise.toml").read_text(), "tasks live in mise-tasks/, not mise.toml"


def test_test_runs_every_part():
    assert task("test")["depends"] == [
        "test:rust",
        "test:wasm",
        "test:deploy",
        "test:rolling-update",
        "test:docs",
        "e2e",
        "fuzz",
    ]


def test_ci_runs_the_readmes_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "bin/mise run test" in readme and "bin/mise run serve" in readme
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith('exec bin/mise run test "$@"')


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


def test_push_of_the_spin_artifact_to_a_registry_that_does_not_answer_names_it_and_needs_no_docker():
    port = free_port()
    result = subprocess.run(
        [str(ROOT / "mise-tasks" / "push"), "spin"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "IMAGE_REGISTRY": f"127.0.0.1:{port}", "REGISTRY_PLAIN_HTTP": "true"},
    )
    assert result.returncode == 1
    # Before the build, push names the component it lacks; after it, the reference it could not push.
    assert f"127.0.0.1:{port}/hello-world-spin:" in result.stderr or "dist/hello-world-" in result.stderr, result.stderr
    assert "Docker engine" not in result.stderr and "Stack backtrace" not in result.stderr


def test_push_refuses_a_part_it_does_not_know():
    result = subprocess.run(
        [str(ROOT / "mise-tasks" / "push"), "native", "image"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "'image' is none of spin, native, chart" in result.stderr


def actionlint(*paths) -> subprocess.CompletedProcess:
    linter = os.environ.get("ACTIONLINT")
    if not linter:
        pytest.skip("ACTIONLINT is not set (test:deploy sets it)")
    return subprocess.run([linter, "-no-color", *map(str, paths)], capture_output=True, text=True)


def test_workflows_pass_actionlint_and_their_steps_shellcheck():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yaml"))
    assert {w.name for w in workflows} == {"CI.yaml", "release.yaml", "site.yaml"}
    result = actionlint(*workflows)
    # actionlint runs shellcheck on each `run:` script, when it finds it.
    assert shutil.which("shellcheck"), "test:deploy installs shellcheck"
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_field }}\n      - run: cd $UNQUOTED\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1 and "no_such_field" in result.stdout
    assert "SC2086" in result.stdout, "shellcheck ran on the run: scripts"


def test_scripts_pass_shellcheck():
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (test:deploy installs it)")
    result = subprocess.run(
        ["shellcheck", "-x", *[str(p.relative_to(ROOT)) for p in SHELL_SCRIPTS]],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_the_python_passes_ruff_lint_and_format():
    # As strict as clippy's -D warnings: any finding or unformatted file fails.
    ruff = str(pathlib.Path(sys.executable).parent / "ruff")
    for command in ([ruff, "check", "--no-cache", "."], [ruff, "format", "--check", "--no-cache", "."]):
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, f"{' '.join(command[1:])}:\n{result.stdout}{result.stderr}"


def test_the_harness_is_imported_as_a_package_not_wired_by_paths():
    result = subprocess.run(
        [
            "git",
            "grep",
            "-n",
            "-e",
            "sys.path.insert",
            "-e",
            "PYTHONPATH=",
            "--",
            "harness",
            "project-tests",
            "mise-tasks",
            "scripts",
            ".github",
            ":!project-tests/test_mise_and_lints.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.stdout == "", result.stdout
