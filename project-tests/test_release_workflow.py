"""release.yaml as a platform team reviews it: nothing is published before CI passed on the
tagged commit, the previous release's site is always found, and the release's files are never
replaced. Its GitHub-API steps run here as the runner runs them (`bash -e`), against a stand-in
`gh` that answers from a made-up repository and records how it was called."""

import base64
import json
import os
import re
import stat
import subprocess
import textwrap

import pytest
import yaml

from harness.workspace import ROOT

RELEASE = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yaml").read_text())
JOBS = RELEASE["jobs"]
CI = yaml.safe_load((ROOT / ".github" / "workflows" / "CI.yaml").read_text())
SHA = "0123456789abcdef0123456789abcdef01234567"

# The stand-in: `release list|download|view|upload` and `api .../CI.yaml/runs`, from the JSON
# file GH_WORLD ({"releases": [...], "successful_ci_runs": {sha: count}}); --jq through jq.
FAKE_GH = textwrap.dedent(
    """\
    #!/usr/bin/env python3
    import json, os, pathlib, re, subprocess, sys

    args = sys.argv[1:]
    with open(os.environ["GH_LOG"], "a") as log:
        log.write(json.dumps(args) + "\\n")
    world = json.loads(pathlib.Path(os.environ["GH_WORLD"]).read_text())

    def option(name):
        return args[args.index(name) + 1] if name in args else None

    def answer(value):
        text = json.dumps(value)
        if option("--jq"):
            text = subprocess.run(["jq", "-r", option("--jq")], input=text, text=True, capture_output=True, check=True).stdout
        sys.stdout.write(text)

    def release(tag):
        found = [r for r in world["releases"] if r["tagName"] == tag]
        if not found:
            sys.exit(print("release not found", file=sys.stderr) or 1)
        return found[0]

    if args[:2] == ["release", "list"]:
        listed = [r for r in world["releases"] if not ("--exclude-drafts" in args and r["isDraft"])]
        listed = [r for r in listed if not ("--exclude-pre-releases" in args and r["isPrerelease"])]
        fields = option("--json").split(",")
        answer([{f: r[f] for f in fields} for r in sorted(listed, key=lambda r: r["createdAt"], reverse=True)])
    elif args[:2] == ["release", "download"]:
        assets = release(args[2])["assets"]
        if option("--pattern") not in assets:
            sys.exit(print("no assets match the file pattern", file=sys.stderr) or 1)
        target = pathlib.Path(option("--dir"))
        target.mkdir(parents=True, exist_ok=True)
        (target / option("--pattern")).write_text(assets[option("--pattern")])
    elif args[:2] == ["release", "view"]:
        answer({"assets": [{"name": name} for name in release(args[2])["assets"]]})
    elif args[:2] == ["release", "upload"]:
        assets = release(args[2])["assets"]
        for path in (a for a in args[3:] if not a.startswith("--")):
            if pathlib.Path(path).name in assets and "--clobber" not in args:
                sys.exit(print(f"asset {pathlib.Path(path).name} already exists", file=sys.stderr) or 1)
    elif args[0] == "api" and (runs := re.fullmatch(r"repos/[^/]+/[^/]+/actions/workflows/CI\\.yaml/runs\\?(.*)", args[1])):
        query = dict(part.split("=", 1) for part in runs.group(1).split("&"))
        count = world["successful_ci_runs"].get(query["head_sha"], 0) if query.get("status") == "success" else 0
        answer({"total_count": count, "workflow_runs": [{"head_sha": query["head_sha"]}] * count})
    else:
        sys.exit(print(f"the stand-in gh does not know {args}", file=sys.stderr) or 1)
    """
)


def made_release(tag, created, *, draft=False, prerelease=True, assets=None):
    return {
        "tagName": tag,
        "isDraft": draft,
        "isPrerelease": prerelease,
        "createdAt": created,
        "publishedAt": None if draft else created,
        "assets": {f"site-{tag}.tar.gz": f"the site of {tag}"} if assets is None else assets,
    }


class Runner:
    """A job's step, run as GitHub runs a `run:` step, in a scratch folder with the stand-in gh."""

    def __init__(self, base):
        self.base = base
        self.world = {"releases": [], "successful_ci_runs": {}}
        bin_dir = base / "bin"
        bin_dir.mkdir()
        (bin_dir / "gh").write_text(FAKE_GH)
        (bin_dir / "gh").chmod(0o755)
        self.bin = bin_dir
        self.files = {name: base / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY")}
        self.env = {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "HOME": str(base),
            "RUNNER_TEMP": str(base / "runner-temp"),
            "GITHUB_REPOSITORY": "acme/hello-world",
            "GITHUB_SERVER_URL": "https://github.com",
            "GH_LOG": str(base / "gh-calls.jsonl"),
            "GH_WORLD": str(base / "world.json"),
            "GH_TOKEN": "token",
            "GH_REPO": "acme/hello-world",
            "SHA": SHA,
            **{name: str(path) for name, path in self.files.items()},
        }

    def command(self, name: str, python: str) -> None:
        """A stand-in for another command the step runs: a Python script."""
        (self.bin / name).write_text("#!/usr/bin/env python3\n" + textwrap.dedent(python))
        (self.bin / name).chmod(0o755)

    def run(self, job: str, name: str, **env) -> subprocess.CompletedProcess:
        step = the_step(job, name)
        (self.base / "world.json").write_text(json.dumps(self.world))
        for path in self.files.values():
            path.touch()
        (self.base / "step.sh").write_text(step["run"])
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", str(self.base / "step.sh")],
            cwd=self.base,
            env={**self.env, **env},
            capture_output=True,
            text=True,
        )

    def written(self, name: str) -> dict[str, str]:
        lines = self.files[name].read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def gh_calls(self) -> list[list[str]]:
        log = self.base / "gh-calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def runner(tmp_path):
    return Runner(tmp_path)


def the_step(job: str, name: str) -> dict:
    found = [step for step in JOBS[job]["steps"] if step.get("name", "").startswith(name)]
    assert len(found) == 1, f"{job}: {len(found)} steps named {name!r}"
    return found[0]


def runs(job) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def apt_packages(job) -> set[str]:
    installs = re.findall(r"apt-get install ([^>\n]*)", runs(job))
    return {word for line in installs for word in line.split() if not word.startswith("-")}


def test_each_job_has_only_the_permissions_it_needs():
    assert RELEASE["permissions"] == {}
    assert {name: job["permissions"] for name, job in JOBS.items()} == {
        "gate": {"actions": "read", "contents": "read"},
        "publish": {"contents": "read", "id-token": "write", "attestations": "write"},
        "release": {"contents": "write"},
    }


def test_nothing_is_built_or_published_before_the_gate():
    assert JOBS["gate"]["env"]["SHA"] == "${{ github.sha }}"
    assert "publish" in JOBS and JOBS["publish"]["needs"] == "gate"
    checkout = next(s for s in JOBS["publish"]["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == "${{ github.sha }}", "the commit the gate checked, not a movable tag"


def test_releases_run_one_at_a_time_so_each_finds_the_site_of_the_one_before():
    assert RELEASE["concurrency"] == {"group": "release", "cancel-in-progress": False}


def test_a_commit_without_a_successful_ci_run_is_not_published(runner):
    result = runner.run("gate", "CI passed", TAG="0.1.3")
    assert result.returncode == 1
    assert f"::error::0.1.3: commit {SHA} has no successful CI run" in result.stdout
    assert f"https://github.com/acme/hello-world/commit/{SHA}" in result.stdout
    assert runner.gh_calls() == [
        [
            "api",
            f"repos/acme/hello-world/actions/workflows/CI.yaml/runs?head_sha={SHA}&status=success",
            "--jq",
            ".total_count",
        ]
    ]


def test_a_commit_ci_passed_on_goes_through_the_gate(runner):
    runner.world["successful_ci_runs"] = {SHA: 1, "f" * 40: 3}
    result = runner.run("gate", "CI passed", TAG="0.1.3")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_previous_release_is_the_newest_other_one_prereleases_included(runner):
    runner.world["releases"] = [
        made_release("0.1.0", "2026-01-05T10:00:00Z", prerelease=False),
        made_release("0.1.1", "2026-02-05T10:00:00Z"),
        made_release("0.1.2", "2026-03-05T10:00:00Z", draft=True),
        made_release("0.1.3", "2026-04-05T10:00:00Z"),
    ]
    result = runner.run("gate", "The previous release's site", TAG="0.1.3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert runner.written("GITHUB_OUTPUT") == {"tag": "0.1.1"}
    assert (runner.base / "runner-temp" / "previous-site" / "site-0.1.1.tar.gz").read_text() == "the site of 0.1.1"
    assert not any("--exclude-pre-releases" in call for call in runner.gh_calls())
    assert "::warning::" not in result.stdout


def test_the_first_release_builds_without_a_previous_site_and_says_so_loudly(runner):
    runner.world["releases"] = [
        made_release("0.1.2", "2026-03-05T10:00:00Z", draft=True),
        made_release("0.1.3", "2026-04-05T10:00:00Z"),
    ]
    result = runner.run("gate", "The previous release's site", TAG="0.1.3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::warning::0.1.3 is the first release" in result.stdout
    assert "0.1.3 is the first release" in runner.files["GITHUB_STEP_SUMMARY"].read_text()
    assert runner.written("GITHUB_OUTPUT") == {}


def test_a_previous_release_without_its_site_fails_naming_the_release_and_the_asset(runner):
    runner.world["releases"] = [
        made_release("0.1.1", "2026-02-05T10:00:00Z", assets={"hello-world-0.1.1.tgz": "a chart"}),
        made_release("0.1.3", "2026-04-05T10:00:00Z"),
    ]
    result = runner.run("gate", "The previous release's site", TAG="0.1.3")
    assert result.returncode == 1
    assert "::error::the previous release, 0.1.1, has no asset site-0.1.1.tar.gz" in result.stdout
    assert runner.written("GITHUB_OUTPUT") == {}


def test_the_build_gets_the_previous_site_the_gate_found():
    steps = JOBS["publish"]["steps"]
    download = next(s for s in steps if s.get("uses", "").startswith("actions/download-artifact@"))
    assert download["if"] == "needs.gate.outputs.previous != ''"
    assert download["with"]["name"] == "previous-site"
    given = the_step("publish", "The previous release's site")
    assert given["if"] == download["if"] and "PREVIOUS_SITE=" in given["run"]
    build = the_step("publish", "Build and publish")
    assert steps.index(download) < steps.index(given) < steps.index(build)
    upload = next(s for s in JOBS["gate"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "previous-site" and upload["with"]["if-no-files-found"] == "error"


def test_the_release_is_built_in_the_image_and_with_the_packages_ci_tests_with():
    # push-image copies the C libraries the binary links from the build machine into the image.
    assert JOBS["publish"]["container"]["image"] == CI["jobs"]["test"]["container"]["image"]
    assert apt_packages(CI["jobs"]["test"]) <= apt_packages(JOBS["publish"])


def test_the_container_job_needs_neither_docker_nor_gh():
    assert not re.search(r"(^\s*|[|;&(]\s*)(docker|gh)\s", runs(JOBS["publish"]), re.M)


def test_crane_and_spin_registry_push_get_the_login_docker_would_write(runner):
    registry = "europe-west3-docker.pkg.dev/acme/hello-world"
    result = runner.run("publish", "Registry login for crane", TOKEN="ya29.token", IMAGE_REGISTRY=registry)
    assert result.returncode == 0, result.stderr
    config = runner.base / ".docker" / "config.json"
    auth = base64.b64encode(b"oauth2accesstoken:ya29.token").decode()
    assert json.loads(config.read_text()) == {"auths": {"europe-west3-docker.pkg.dev": {"auth": auth}}}
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def released_files(base, tag):
    files = [
        f"hello-world-{tag}.tgz",
        f"site-{tag}.tar.gz",
        f"hello-world-{tag}.wasm",
        f"sbom-native-{tag}.cdx.json",
        f"sbom-component-{tag}.cdx.json",
        f"published-{tag}.txt",
    ]
    (base / "dist").mkdir()
    for name in files:
        (base / "dist" / name).write_text(name)
    return files


def test_the_release_gets_each_of_its_files(runner):
    files = released_files(runner.base, "0.1.3")
    runner.world["releases"] = [made_release("0.1.3", "2026-04-05T10:00:00Z", assets={})]
    result = runner.run("release", "Attach the release assets", TAG="0.1.3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert runner.gh_calls()[-1] == ["release", "upload", "0.1.3", *(f"dist/{name}" for name in files)]


def test_an_asset_the_release_has_already_is_an_error_and_nothing_is_replaced(runner):
    released_files(runner.base, "0.1.3")
    runner.world["releases"] = [
        made_release("0.1.3", "2026-04-05T10:00:00Z", assets={"site-0.1.3.tar.gz": "an earlier upload"})
    ]
    result = runner.run("release", "Attach the release assets", TAG="0.1.3")
    assert result.returncode == 1
    assert "::error::release 0.1.3 has an asset site-0.1.3.tar.gz already" in result.stdout
    assert not any(call[:2] == ["release", "upload"] for call in runner.gh_calls())
    assert "--clobber" not in runs(JOBS["release"])


def test_the_push_signs_keyless_with_the_jobs_github_identity():
    push = the_step("publish", "Build and publish")
    assert push["run"] == "bin/mise run ci_release"
    assert push["env"] == {"COSIGN_KEYLESS": "true"}
    assert JOBS["publish"]["permissions"]["id-token"] == "write"


# project-version's plan for 0.1.3 with IMAGE_REGISTRY=r.example/team, as the step asks for it.
FAKE_CARGO = """\
    import sys
    plan = {
        "native_images": "r.example/team/hello-world:0.1.3",
        "spin_artifacts": "r.example/team/hello-world-spin:0.1.3",
        "chart": "oci://r.example/team/charts/hello-world:0.1.3",
    }
    assert sys.argv[1:7] == ["run", "--quiet", "-p", "project-version", "--", "plan"], sys.argv
    print(plan[sys.argv[7]])
"""
DIGESTS = {kind: "sha256:" + digit * 64 for kind, digit in (("native", "1"), ("spin", "2"), ("chart", "3"))}
REPOSITORIES = {
    "native": "r.example/team/hello-world",
    "spin": "r.example/team/hello-world-spin",
    "chart": "r.example/team/charts/hello-world",
}


def test_each_pushed_artifact_is_found_by_the_plans_name_in_the_published_list(runner):
    runner.command("cargo", FAKE_CARGO)
    (runner.base / "dist").mkdir()
    (runner.base / "dist" / "published-0.1.3.txt").write_text(
        "".join(f"{REPOSITORIES[kind]}@{DIGESTS[kind]}\n" for kind in ("chart", "native", "spin"))
    )
    result = runner.run("publish", "The pushed artifacts' digests", TAG="0.1.3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert runner.written("GITHUB_OUTPUT") == {
        **{f"{kind}_name": name for kind, name in REPOSITORIES.items()},
        **{f"{kind}_digest": digest for kind, digest in DIGESTS.items()},
    }


def test_a_pushed_artifact_missing_from_the_published_list_fails_naming_it(runner):
    runner.command("cargo", FAKE_CARGO)
    (runner.base / "dist").mkdir()
    (runner.base / "dist" / "published-0.1.3.txt").write_text(
        f"{REPOSITORIES['native']}@{DIGESTS['native']}\n{REPOSITORIES['chart']}@{DIGESTS['chart']}\n"
    )
    result = runner.run("publish", "The pushed artifacts' digests", TAG="0.1.3")
    assert result.returncode == 1
    assert "::error::dist/published-0.1.3.txt names no digest for r.example/team/hello-world-spin" in result.stdout


def test_the_release_files_and_each_pushed_artifact_get_build_provenance():
    steps = JOBS["publish"]["steps"]
    attests = [s for s in steps if s.get("uses", "").startswith("actions/attest-build-provenance@")]
    push = steps.index(the_step("publish", "Build and publish"))
    assert all(steps.index(a) > push for a in attests)
    files = [a for a in attests if "subject-path" in a["with"]]
    assert len(files) == 1
    assert sorted(files[0]["with"]["subject-path"].splitlines()) == sorted(
        f"dist/{name}"
        for name in (
            "hello-world-${{ env.TAG }}.tgz",
            "hello-world-${{ env.TAG }}.wasm",
            "site-${{ env.TAG }}.tar.gz",
            "sbom-native-${{ env.TAG }}.cdx.json",
            "sbom-component-${{ env.TAG }}.cdx.json",
        )
    )
    oci = [a["with"] for a in attests if "subject-name" in a["with"]]
    assert oci == [
        {
            "subject-name": f"${{{{ steps.published.outputs.{kind}_name }}}}",
            "subject-digest": f"${{{{ steps.published.outputs.{kind}_digest }}}}",
            "push-to-registry": True,
        }
        for kind in ("native", "spin", "chart")
    ]
    assert the_step("publish", "The pushed artifacts' digests")["id"] == "published"


VERSIONED = "Every published version of the docs"
RECORD_MISE = """\
    import json, os, sys
    with open(os.environ["MISE_LOG"], "a") as log:
        log.write(json.dumps({"args": sys.argv[1:], "from": os.environ.get("DOCS_VERSIONS_FROM")}) + "\\n")
"""


def versioned_release(runner, previous_files: dict[str, str]):
    """The versioned step of a release of 0.1.4, after a previous release of `previous_files`,
    with a stand-in `bin/mise` that records what it was asked to run."""
    subprocess.run(["git", "init", "-q"], cwd=runner.base, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "0.1.4"],
        cwd=runner.base,
        check=True,
    )
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=runner.base, capture_output=True, text=True).stdout.strip()
    runner.command("mise", RECORD_MISE)
    previous = runner.base / "previous"
    for name, text in previous_files.items():
        (previous / name).parent.mkdir(parents=True, exist_ok=True)
        (previous / name).write_text(text)
    archive = runner.base / "site-0.1.3.tar.gz"
    subprocess.run(["tar", "-czf", str(archive), "-C", str(previous), "."], check=True)
    result = runner.run(
        "publish", VERSIONED, TAG="0.1.4", PREVIOUS_SITE=str(archive), MISE_LOG=str(runner.base / "mise.jsonl")
    )
    calls = [json.loads(line) for line in (runner.base / "mise.jsonl").read_text().splitlines()]
    return result, calls, head, archive


def test_the_versioned_release_deploys_its_docs_onto_the_previous_releases_tree(runner):
    step = the_step("publish", VERSIONED)
    assert step["if"] == "vars.DOCS_VERSIONS == 'true'"
    steps = JOBS["publish"]["steps"]
    assert steps.index(the_step("publish", "The previous release's site")) < steps.index(step)
    assert steps.index(step) < steps.index(the_step("publish", "Build, and build the tools"))
    result, calls, head, archive = versioned_release(runner, {"versions.json": "[]", "0.1.3/index.html": "<p>"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls == [{"args": ["run", "docs-versions", "--", f"{head}=0.1.4"], "from": str(archive)}]
    assert runner.written("GITHUB_ENV") == {"SITE_VERSIONS_DIR": f"{runner.base}/target/docs-versions"}


def test_the_first_versioned_release_after_one_site_starts_the_tree_and_only_reports_the_moved_pages(runner):
    result, calls, head, _ = versioned_release(runner, {"index.html": "<p>", "guide/index.html": "<p>"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls == [{"args": ["run", "docs-versions", "--", f"{head}=0.1.4"], "from": None}]
    assert "::warning::the previous release served one site" in result.stdout
    assert runner.written("GITHUB_ENV") == {
        "SITE_PERMALINK_CHECK": "warn",
        "SITE_VERSIONS_DIR": f"{runner.base}/target/docs-versions",
    }
