"""`mise run docs-versions`: the docs of git refs, deployed by mike into the tree that
SITE_VERSIONS_DIR embeds (site/docs/versions.md)."""

import json
import os
import subprocess

from harness.workspace import ROOT


def test_each_ref_is_deployed_by_mike_and_the_last_is_latest_and_the_default(tmp_path):
    older, newer = reversed(
        subprocess.run(
            ["git", "log", "-2", "--format=%h", "--", "site/docs"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    tree = tmp_path / "tree"
    subprocess.run(
        [str(ROOT / "mise-tasks" / "docs-versions"), f"{older}=0.1.0", f"{newer}=0.2.0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DOCS_VERSIONS_DIR": str(tree)},
    )
    listed = json.loads((tree / "versions.json").read_text())
    assert [(v["version"], v["aliases"]) for v in listed] == [("0.2.0", ["latest"]), ("0.1.0", [])]
    for version in ("0.1.0", "0.2.0"):
        assert (tree / version / "index.html").is_file()
        assert (tree / version / "404.html").is_file()
    # mike's stand-ins, which the site compiler turns into redirects.
    assert 'href="latest/"' in (tree / "index.html").read_text()
    assert (tree / "latest").exists()
