#!/usr/bin/env python3
"""The project's one version, and everything named after it.

The version lives in the root Cargo.toml ([workspace.package] version). Everything else
follows it:
  get    print the version
  plan   print, as JSON, the name of every release artifact: assets, image and Spin artifact
         tags, the chart repository (registries from IMAGE_REGISTRY / CHART_REGISTRY)
  sync   write the version into Cargo.lock, Chart.yaml (version, appVersion), spin.toml and the
         deployment harness (deployment/test/mise.toml)
  bump   raise the patch version in Cargo.toml (0.1.0 -> 0.1.1), then sync

It works on the git repository of the current directory, so the release tests can run it on a
scratch repository.
"""

import json
import os
import pathlib
import re
import subprocess
import sys
import tomllib

DEFAULT_IMAGE_REGISTRY = "europe-west3-docker.pkg.dev/digitalgedacht/hello-world"


def repo() -> pathlib.Path:
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if top.returncode != 0:
        sys.exit("version.py: run it inside the project's git repository")
    return pathlib.Path(top.stdout.strip())


def get(root: pathlib.Path) -> str:
    return tomllib.loads((root / "Cargo.toml").read_text())["workspace"]["package"]["version"]


def plan(root: pathlib.Path) -> dict:
    version = get(root)
    image_registry = os.environ.get("IMAGE_REGISTRY", DEFAULT_IMAGE_REGISTRY).rstrip("/")
    chart_registry = os.environ.get("CHART_REGISTRY", f"{image_registry}/charts").rstrip("/")
    tags = [version, "latest"]
    return {
        "version": version,
        "git_tag": version,
        "assets": {
            "chart": f"dist/hello-world-{version}.tgz",
            "site": f"dist/site-{version}.tar.gz",
            "wasm": f"dist/hello-world-{version}.wasm",
        },
        # The chart's _helpers.tpl names them the same way: <registry>/<name>[-spin]:<tag>.
        "native_images": [f"{image_registry}/hello-world:{tag}" for tag in tags],
        "spin_artifacts": [f"{image_registry}/hello-world-spin:{tag}" for tag in tags],
        "chart_repository": f"oci://{chart_registry}",
        "chart": f"oci://{chart_registry}/hello-world:{version}",
    }


def replace(path: pathlib.Path, pattern: str, replacement: str, count: int = 1) -> None:
    """Replaces `count` matches of a multi-line regex; fails loudly when the file changed shape."""
    text = path.read_text()
    new, found = re.subn(pattern, replacement, text, flags=re.M)
    if found != count:
        sys.exit(f"version.py: {path}: expected {count} match(es) of {pattern!r}, found {found}")
    path.write_text(new)


def sync(root: pathlib.Path) -> None:
    version = get(root)
    lock = root / "Cargo.lock"
    # The workspace's own crates are the packages Cargo.lock records without a `source`.
    crates = [p["name"] for p in tomllib.loads(lock.read_text())["package"] if "source" not in p]
    for crate in crates:
        replace(lock, rf'^(name = "{re.escape(crate)}"\nversion = )"[^"]*"', rf'\g<1>"{version}"')
    chart = root / "charts" / "hello-world" / "Chart.yaml"
    replace(chart, r'^version: .*$', f"version: {version}")
    replace(chart, r'^appVersion: .*$', f'appVersion: "{version}"')
    replace(root / "spin.toml", r'^(\[application\](?:\n(?!\[).*)*?\nversion = )"[^"]*"', rf'\g<1>"{version}"')
    harness = root / "deployment" / "test" / "mise.toml"
    for key in ("APP_CHART_VERSION", "APP_IMAGE_VERSION"):
        replace(harness, rf'^{key} = "[^"]*"', f'{key} = "{version}"')


def bump(root: pathlib.Path) -> str:
    old = get(root)
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", old)
    if not match:
        sys.exit(f"version.py: {old!r} is not MAJOR.MINOR.PATCH; set the next version by hand")
    major, minor, patch = map(int, match.groups())
    new = f"{major}.{minor}.{patch + 1}"
    replace(root / "Cargo.toml", r'^(\[workspace\.package\](?:\n(?!\[).*)*?\nversion = )"[^"]*"', rf'\g<1>"{new}"')
    sync(root)
    return new


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    root = repo()
    if command == "get":
        print(get(root))
    elif command == "plan":
        print(json.dumps(plan(root), indent=2))
    elif command == "sync":
        sync(root)
    elif command == "bump":
        print(bump(root))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
