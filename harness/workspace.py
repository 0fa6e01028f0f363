"""The checkout: where it is, where the project tests' data are, and the project's version."""

import os
import pathlib
import subprocess
import tomllib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "project-tests" / "data"


def project_version() -> str:
    """The version of the checkout as project-version derives it (`get`: the workspace's
    version, with the commit for a build that is not a release)."""
    command = ["cargo", "run", "--quiet", "-p", "project-version", "--", "get"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def lib_sh(script: str, **env: str) -> subprocess.CompletedProcess:
    """Runs `script` in bash with scripts/lib.sh sourced, in the checkout, `env` added."""
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; . scripts/lib.sh; {script}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def cargo_version() -> str:
    """The project's one version: [workspace.package] version in the root Cargo.toml."""
    return tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]


# The files that carry the version (project-version's `bump` writes each).
VERSION_FILES = [
    "Cargo.toml",
    "Cargo.lock",
    "charts/hello-world/Chart.yaml",
    "spin.toml",
    "deployment/test/inputs.toml",
]


def written_versions(root=ROOT) -> dict[str, str]:
    """Every place the version is written, by name: the chart, spin.toml, the harness inputs,
    and the workspace's own crates in Cargo.lock."""
    chart = yaml.safe_load((root / "charts/hello-world/Chart.yaml").read_text())
    spin = tomllib.loads((root / "spin.toml").read_text())
    harness = tomllib.loads((root / "deployment/test/inputs.toml").read_text())["env"]
    lock = tomllib.loads((root / "Cargo.lock").read_text())
    found = {
        "Chart.yaml version": str(chart["version"]),
        "Chart.yaml appVersion": str(chart["appVersion"]),
        "spin.toml application.version": spin["application"]["version"],
        "deployment/test/inputs.toml APP_CHART_VERSION": harness["APP_CHART_VERSION"],
        "deployment/test/inputs.toml APP_IMAGE_VERSION": harness["APP_IMAGE_VERSION"],
    }
    for package in lock["package"]:
        if "source" not in package:  # the workspace's own crates
            found[f"Cargo.lock {package['name']}"] = package["version"]
    return found
