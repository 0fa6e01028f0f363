"""bump_version and release, run on a scratch git repository with a local bare remote and a
stand-in `gh` that records how it was called."""

import json
import os
import shutil
import subprocess
import tomllib

import pytest

from harness.workspace import ROOT, VERSION_FILES, written_versions

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


class Scratch:
    def __init__(self, base):
        self.remote = base / "remote.git"
        self.work = base / "work"
        self.gh_log = base / "gh-calls.jsonl"
        bin_dir = base / "bin"
        bin_dir.mkdir()
        gh = bin_dir / "gh"
        gh.write_text(
            "#!/usr/bin/env python3\n"
            "import json, os, sys\n"
            "with open(os.environ['GH_LOG'], 'a') as log:\n"
            "    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        )
        gh.chmod(0o755)
        self.env = {**os.environ, **GIT_ENV, "GH_LOG": str(self.gh_log), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
        self.git("init", "-q", "--bare", "-b", "main", str(self.remote), cwd=base)
        self.git("clone", "-q", str(self.remote), str(self.work), cwd=base)
        for name in VERSION_FILES:
            (self.work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, self.work / name)
        self.git("checkout", "-q", "-b", "main")
        self.git("add", ".")
        self.git("commit", "-q", "-m", "initial")
        self.git("push", "-q", "origin", "main")

    def git(self, *args, cwd=None) -> str:
        return subprocess.run(
            ["git", *args], cwd=cwd or self.work, env=self.env, check=True, capture_output=True, text=True
        ).stdout

    def run(self, task: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / "mise-tasks" / task)], cwd=self.work, env=self.env, capture_output=True, text=True
        )

    def version(self) -> str:
        return tomllib.loads((self.work / "Cargo.toml").read_text())["workspace"]["package"]["version"]

    def gh_calls(self) -> list[list[str]]:
        if not self.gh_log.exists():
            return []
        return [json.loads(line) for line in self.gh_log.read_text().splitlines()]

    def remote_tags(self) -> list[str]:
        return self.git("tag", "--list", cwd=self.remote).split()


@pytest.fixture
def scratch(tmp_path):
    return Scratch(tmp_path)


def next_patch(version: str) -> str:
    major, minor, patch = map(int, version.split("."))
    return f"{major}.{minor}.{patch + 1}"


def test_bump_version_raises_the_patch_everywhere_and_commits(scratch):
    old = scratch.version()
    result = scratch.run("bump_version")
    assert result.returncode == 0, result.stderr
    new = next_patch(old)
    assert scratch.version() == new
    assert set(written_versions(scratch.work).values()) == {new}
    assert scratch.git("log", "-1", "--format=%s").strip() == f"Bump version to {new}"
    assert scratch.git("status", "--porcelain") == ""
    changed = scratch.git("show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == sorted(VERSION_FILES)


def test_bump_version_refuses_a_dirty_tree(scratch):
    (scratch.work / "spin.toml").write_text((scratch.work / "spin.toml").read_text() + "\n# local edit\n")
    old = scratch.version()
    result = scratch.run("bump_version")
    assert result.returncode == 1
    assert "uncommitted changes" in result.stderr
    assert scratch.version() == old


def test_release_tags_pushes_and_creates_a_prerelease(scratch):
    version = scratch.version()
    result = scratch.run("release")
    assert result.returncode == 0, result.stderr
    assert scratch.git("tag", "--list").split() == [version]
    assert scratch.remote_tags() == [version]
    assert scratch.gh_calls() == [["release", "create", version, "--prerelease", "--generate-notes"]]


def test_release_exits_11_on_uncommitted_changes(scratch):
    (scratch.work / "notes.txt").write_text("not committed\n")
    result = scratch.run("release")
    assert result.returncode == 11
    assert "uncommitted changes" in result.stderr
    assert scratch.git("tag", "--list") == ""
    assert scratch.gh_calls() == []


def test_release_exits_10_when_the_tag_exists_locally(scratch):
    scratch.git("tag", scratch.version())
    result = scratch.run("release")
    assert result.returncode == 10
    assert "bump_version" in result.stderr
    assert scratch.gh_calls() == []


def test_release_exits_10_when_the_tag_exists_on_the_remote(scratch, tmp_path):
    other = tmp_path / "other"
    scratch.git("clone", "-q", str(scratch.remote), str(other), cwd=tmp_path)
    scratch.git("tag", scratch.version(), cwd=other)
    scratch.git("push", "-q", "origin", scratch.version(), cwd=other)
    result = scratch.run("release")
    assert result.returncode == 10
    assert scratch.gh_calls() == []


def test_bump_then_release_releases_the_new_version(scratch):
    first = scratch.version()
    assert scratch.run("release").returncode == 0
    assert scratch.run("release").returncode == 10
    assert scratch.run("bump_version").returncode == 0
    scratch.git("push", "-q", "origin", "main")
    result = scratch.run("release")
    assert result.returncode == 0, result.stderr
    assert sorted(scratch.remote_tags()) == sorted([first, next_patch(first)])
