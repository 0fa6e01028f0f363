"""The tool pins (tools/versions.toml): what scripts/lib.sh builds, at the versions it builds."""

import functools
import json
import pathlib
import subprocess
import tomllib

from harness.processes import StepFailed
from harness.workspace import ROOT

MANIFEST = ROOT / "tools" / "versions.toml"


@functools.cache
def pins() -> dict[str, dict[str, str]]:
    """Every tool's pin, by the tool's name."""
    return tomllib.loads(MANIFEST.read_text())


def version(tool: str) -> str:
    """The version `tool` is pinned at, e.g. `version("traefik")` -> "v3.6.12"."""
    return pins()[tool]["version"]


def module_source(tool: str) -> pathlib.Path:
    """The source of the Go module `tool` is built from, at its pinned version, from the module
    cache (lib.sh's build put it there): its manifests, CRDs and RBAC are read from it."""
    module = f"{pins()[tool]['module']}@{version(tool)}"
    result = subprocess.run(["go", "mod", "download", "-json", module], capture_output=True, text=True)
    if result.returncode != 0:
        raise StepFailed(f"go mod download {module}: {result.stderr.strip()}")
    return pathlib.Path(json.loads(result.stdout)["Dir"])
