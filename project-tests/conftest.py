"""Shared fixtures of the project-level tests (manifests, chart, deployment, scripts)."""

import tomllib

from paths import DATA, ROOT  # noqa: F401 (re-exported: the tests import them from here)


def cargo_version() -> str:
    """The project's one version: [workspace.package] version in the root Cargo.toml."""
    return tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]
