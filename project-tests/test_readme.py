"""The README as a newcomer reads it: a short Quickstart, and a layout table and build-time
settings that leave nothing out."""

import re
import subprocess
import tomllib

from harness.workspace import ROOT

README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_quickstart_fits_in_about_thirty_lines():
    assert len(section("Quickstart").strip().splitlines()) <= 30


def test_the_layout_names_every_top_level_folder_and_workspace_crate():
    paths = [line.split("|")[1] for line in section("Layout").splitlines() if line.startswith("| `")]
    named = set(re.findall(r"`([\w./-]+?)/?`", "\n".join(paths)))
    folders = subprocess.run(
        ["git", "ls-tree", "-d", "--name-only", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    members = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["members"]
    crates = [member.split("/")[0] for member in members if member != "."]
    missing = sorted({*folders, *crates} - {name.split("/")[0] for name in named})
    assert missing == []


def test_the_build_time_settings_are_every_variable_build_rs_reads():
    build_rs = (ROOT / "build.rs").read_text()
    read = set(
        re.search(r"for setting in \[(.*?)\]", build_rs, re.S).group(1).replace('"', "").replace(",", " ").split()
    )
    documented = {
        m.split("=")[0] for m in re.findall(r"^\| `([A-Z_]+(?:=\w+)?)` \|", section("Build-time settings"), re.M)
    }
    assert read == documented
