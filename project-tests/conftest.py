"""Shared fixtures of the project-level tests (manifests, chart, deployment, scripts)."""

import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "project-tests" / "data"


def cargo_version() -> str:
    """The project's one version: [workspace.package] version in the root Cargo.toml."""
    return tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]
