"""The installers in scripts/lib.sh work from nothing: an empty tool cache, whatever the machine's
rustc, so a fresh machine's `.ci/run` never depends on what an earlier run left behind."""

import json
import os
import pathlib
import shutil
import subprocess

import pytest

from harness.workspace import lib_sh

WASMTIME_RELEASE = "wasmtime 49.0.3 (f96eabaa1 2026-10-14)"


def test_wasmtime_installs_from_the_pinned_wheel_into_an_empty_tool_cache(tmp_path):
    result = lib_sh('ensure_wasmtime && "$WASMTIME" --version', HELLO_WORLD_TOOLS=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == WASMTIME_RELEASE
    assert (tmp_path / "wasmtime" / "bin" / "wasmtime").is_file()
    assert "cargo install" not in result.stderr


def test_a_changed_wasmtime_binary_is_replaced_not_run(tmp_path):
    binary = tmp_path / "wasmtime" / "bin" / "wasmtime"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\necho wasmtime 49.0.3\n")
    binary.chmod(0o755)
    result = lib_sh('ensure_wasmtime && "$WASMTIME" --version', HELLO_WORLD_TOOLS=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == WASMTIME_RELEASE


def test_the_cargo_fallback_picks_a_wasmtime_the_rustc_can_build():
    # wasmtime-cli 49 declares rust-version 1.96, 48 declares 1.95 (crates.io's index): the
    # fallback must never ask a 1.95 rustc for 49, which is the failure a fresh machine hit.
    picks = {}
    for rustc in ("1.95.0", "1.96.0"):
        result = lib_sh(f"wasmtime_cargo_version {rustc}")
        assert result.returncode == 0, result.stderr
        picks[rustc] = result.stdout.strip()
    assert picks["1.95.0"].startswith("48."), picks
    assert picks["1.96.0"].startswith("49."), picks


def test_the_machines_own_go_is_used_even_off_the_path():
    polyglot_go = pathlib.Path("/usr/local/go/bin/go")
    if not polyglot_go.is_file():
        pytest.skip("this machine has no Go in /usr/local/go")
    path = ":".join(p for p in os.environ["PATH"].split(":") if not (pathlib.Path(p) / "go").exists())
    assert not shutil.which("go", path=path)
    result = lib_sh("ensure_go && command -v go", PATH=path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(polyglot_go)


def test_the_tasks_use_kubectl_at_the_clusters_version():
    # Debian's kubernetes-client is 1.20.2, whose kustomize fails on test/ with
    # `'../deployment/base' must be a file`: the tasks build kubectl from k8s.io/kubernetes at the
    # cluster's version instead of taking whatever is on PATH.
    pinned = lib_sh('echo "$KUBECTL $KUBERNETES_VERSION"')
    assert pinned.returncode == 0, pinned.stderr
    built, version = pinned.stdout.split()
    assert os.environ.get("KUBECTL") == built, "test:deploy must hand the tests the kubectl it built"
    client = subprocess.run([built, "version", "--client", "-o", "json"], capture_output=True, text=True)
    assert client.returncode == 0, client.stderr
    assert json.loads(client.stdout)["clientVersion"]["gitVersion"] == version
