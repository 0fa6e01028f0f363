"""spin.toml: a valid manifest v2 that builds and points at the component this project builds."""

import json
import os
import pathlib
import tomllib

import jsonschema

from harness.workspace import DATA, ROOT, cargo_version

MANIFEST = tomllib.loads((ROOT / "spin.toml").read_text())
COMPONENT = MANIFEST["component"]["hello-world"]


def test_manifest_is_valid_against_the_v2_schema():
    schema = json.loads((DATA / "schemas" / "spin-manifest-v2.json").read_text())
    jsonschema.validate(MANIFEST, schema)


def test_a_manifest_with_a_typo_is_rejected_by_the_schema():
    """The schema check can fail: an unknown key is caught."""
    schema = json.loads((DATA / "schemas" / "spin-manifest-v2.json").read_text())
    broken = json.loads(json.dumps(MANIFEST))
    broken["component"]["hello-world"]["sorce"] = broken["component"]["hello-world"].pop("source")
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(broken))
    assert errors


def test_application_version_is_the_crate_version():
    assert MANIFEST["application"]["version"] == cargo_version()


def test_every_path_is_served_by_the_component():
    assert MANIFEST["trigger"]["http"] == [{"route": "/...", "component": "hello-world"}]


def test_no_outbound_network():
    assert COMPONENT.get("allowed_outbound_hosts", []) == []
    assert "files" not in COMPONENT


def test_source_is_the_file_the_build_produces():
    assert COMPONENT["source"] == "target/component/hello-world.wasm"
    built = os.environ.get("HELLO_WORLD_COMPONENT")
    if built:
        assert pathlib.Path(built).resolve() == (ROOT / COMPONENT["source"]).resolve()


def test_build_runs_the_component_build_and_watches_sources_and_site():
    build = COMPONENT["build"]
    assert build["command"] == "mise-tasks/build-component"
    assert (ROOT / build["command"]).is_file()
    assert any(w.startswith("src/") for w in build["watch"])
    assert any(w.startswith("site/") for w in build["watch"])
