"""The Spin tools' pins (tools/rust/spin, scripts/lib.sh ensure_spin_tools): the wrapper
workspace builds only from the archives sources.tsv pins, and an archive that differs from its
pin is refused before anything is unpacked."""

import tomllib

from harness.workspace import ROOT, lib_sh

WRAPPER = ROOT / "tools" / "rust" / "spin"


def sources() -> list[dict]:
    rows = [
        line.split("\t")
        for line in (WRAPPER / "sources.tsv").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    return [dict(zip(("archive", "repository", "commit", "paths", "sha256"), row, strict=True)) for row in rows]


def test_the_wrappers_lock_holds_no_git_source_so_every_one_is_patched_to_an_archive():
    lock = tomllib.loads((WRAPPER / "Cargo.lock").read_text())
    git = sorted(f"{p['name']} {p['source']}" for p in lock["package"] if p.get("source", "").startswith("git+"))
    assert git == []
    names = {p["name"] for p in lock["package"]}
    assert {"containerd-shim-spin-v2", "spin-registry-push", "spin-oci", "trigger-sqs"} <= names


def test_every_patch_path_is_in_a_pinned_archive():
    manifest = tomllib.loads((WRAPPER / "Cargo.toml").read_text())
    archives = {row["archive"] for row in sources()}
    for url, crates in manifest["patch"].items():
        for crate, spec in crates.items():
            parts = spec["path"].split("/")
            assert parts[:2] == ["..", "sources"] and parts[2] in archives, (url, crate, spec)


def test_each_pin_names_a_commit_and_a_sha256():
    for row in sources():
        assert len(row["commit"]) == 40 and len(row["sha256"]) == 64, row
        assert row["repository"].count("/") == 1, row


def test_an_archive_that_differs_from_its_pin_is_refused(tmp_path):
    row = sources()[0]
    (tmp_path / f"{row['archive']}.tar.gz").write_bytes(b"not the archive")
    result = lib_sh(
        f"spin_source_archive {row['archive']} {row['repository']} {row['commit']} . {row['sha256']} >/dev/null",
        SPIN_SOURCES=str(tmp_path),
    )
    assert result.returncode != 0
    assert f"does not match the pinned sha256 {row['sha256']}" in result.stderr


def test_the_shared_archives_match_their_pins_where_this_machine_has_them():
    folder = ROOT.parent / "shared" / "sources"
    present = [row for row in sources() if (folder / f"{row['archive']}.tar.gz").is_file()]
    for row in present:
        result = lib_sh(
            f"spin_source_archive {row['archive']} {row['repository']} {row['commit']} . {row['sha256']} | wc -c",
            SPIN_SOURCES=str(folder),
        )
        assert result.returncode == 0, result.stderr
