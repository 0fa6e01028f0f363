"""`mise run docs-versions`: the docs of git refs, deployed by mike into the tree that
SITE_VERSIONS_DIR embeds (site/docs/versions.md)."""

import json
import os
import subprocess

from harness import raw_http
from harness.ports import free_port
from harness.processes import Process, http_status, wait_until
from harness.workspace import ROOT


def last_two_docs_commits() -> tuple[str, str]:
    """The last two commits that changed site/docs, older first."""
    older, newer = reversed(
        subprocess.run(
            ["git", "log", "-2", "--format=%h", "--", "site/docs"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    return older, newer


def deploy(tree, *specs, **env):
    return subprocess.run(
        [str(ROOT / "mise-tasks" / "docs-versions"), *specs],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DOCS_VERSIONS_DIR": str(tree), **env},
    )


def test_each_ref_is_deployed_by_mike_and_the_last_is_latest_and_the_default(tmp_path):
    older, newer = last_two_docs_commits()
    tree = tmp_path / "tree"
    deployed = deploy(tree, f"{older}=0.1.0", f"{newer}=0.2.0")
    assert deployed.returncode == 0, deployed.stderr
    listed = json.loads((tree / "versions.json").read_text())
    assert [(v["version"], v["aliases"]) for v in listed] == [("0.2.0", ["latest"]), ("0.1.0", [])]
    for version in ("0.1.0", "0.2.0"):
        assert (tree / version / "index.html").is_file()
        assert (tree / version / "404.html").is_file()
    # mike's stand-ins, which the site compiler turns into redirects.
    assert 'href="latest/"' in (tree / "index.html").read_text()
    assert (tree / "latest").exists()


def test_a_release_deploys_onto_the_previous_releases_tree_which_stays_as_it_was_built(tmp_path):
    older, newer = last_two_docs_commits()
    first = tmp_path / "first"
    assert deploy(first, f"{older}=0.1.0").returncode == 0
    archive = tmp_path / "site-0.1.0.tar.gz"
    subprocess.run(["tar", "-czf", str(archive), "-C", str(first), "."], check=True)
    second = tmp_path / "second"
    result = deploy(second, f"{newer}=0.2.0", DOCS_VERSIONS_FROM=str(archive))
    assert result.returncode == 0, result.stderr
    listed = json.loads((second / "versions.json").read_text())
    assert [(v["version"], v["aliases"]) for v in listed] == [("0.2.0", ["latest"]), ("0.1.0", [])]
    for page in (first / "0.1.0").rglob("*"):
        if page.is_file():
            assert page.read_bytes() == (second / page.relative_to(first)).read_bytes(), page
    assert 'href="latest/"' in (second / "index.html").read_text()


def test_deploying_onto_a_tree_mike_did_not_deploy_fails_saying_so(tmp_path):
    (tmp_path / "one-site").mkdir()
    (tmp_path / "one-site" / "index.html").write_text("<p>")
    result = deploy(tmp_path / "tree", "HEAD=0.1.0", DOCS_VERSIONS_FROM=str(tmp_path / "one-site"))
    assert result.returncode != 0
    assert "has no versions.json: not a tree mike deployed" in result.stderr


def test_serve_serves_a_versioned_tree_with_its_redirects(tmp_path):
    """`SITE_VERSIONS_DIR=… bin/mise run serve`: runtime-shim built with the tree, on a port."""
    older, newer = last_two_docs_commits()
    tree = tmp_path / "tree"
    assert deploy(tree, f"{older}=0.1.0", f"{newer}=0.2.0").returncode == 0
    port = free_port()
    serve = Process(
        "serve",
        [str(ROOT / "mise-tasks" / "serve"), "--listen", f"127.0.0.1:{port}", "--log-level", "warn"],
        tmp_path,
        env={"SITE_VERSIONS_DIR": str(tree)},
    )
    try:
        # The first run builds runtime-shim with the tree.
        wait_until(
            "serve", lambda: http_status(f"http://127.0.0.1:{port}/.healthz") == 200, 600, watch=[serve], blame=serve
        )
        base = f"http://127.0.0.1:{port}"
        status, headers, _ = raw_http.get(port, "/")
        assert (status, headers["location"]) == (302, "/0.2.0/")
        status, headers, _ = raw_http.get(port, "/latest/http/?q=1")
        assert (status, headers["location"], headers["cache-control"]) == (302, "/0.2.0/http/?q=1", "no-cache")
        assert http_status(f"{base}/0.1.0/http/") == 200
        assert http_status(f"{base}/0.1.0/no-such-page/") == 404
    finally:
        serve.stop()
