"""scripts/workflow_job.py, which runs a GitHub workflow's container job here (test:workflow):
it must read the workflows as GitHub does, and know how to do every step of the test job."""

import pytest
import yaml

from harness import workflow_job
from harness.workspace import ROOT

CI = yaml.safe_load((ROOT / ".github" / "workflows" / "CI.yaml").read_text())
EMULATED = {"actions/checkout", "dtolnay/rust-toolchain", "actions/setup-go", "actions/upload-artifact"}


def test_expressions_evaluate_as_github_evaluates_them():
    context = {"matrix": {"wasm": "auto", "toolchain": "1.95.0"}, "strategy": {"job-index": 2}}
    assert workflow_job.evaluate("${{ matrix.toolchain }}", context) == "1.95.0"
    assert workflow_job.evaluate("out-${{ strategy.job-index }}", context) == "out-2"
    assert workflow_job.evaluate("${{ matrix.wasm == 'auto' && 'wasm32-wasip2' || '' }}", context) == "wasm32-wasip2"
    context["matrix"]["wasm"] = "debian"
    assert workflow_job.evaluate("${{ matrix.wasm == 'auto' && 'wasm32-wasip2' || '' }}", context) == ""


def test_an_expression_it_cannot_evaluate_is_refused_not_guessed():
    with pytest.raises(workflow_job.JobFailed, match="cannot evaluate"):
        workflow_job.evaluate("${{ hashFiles('Cargo.lock') }}", {})


def test_github_env_files_keep_both_forms():
    text = "A=1\nB<<EOF\nline one\nline two\nEOF\nC=x=y\n"
    assert workflow_job.parse_env_file(text) == {"A": "1", "B": "line one\nline two", "C": "x=y"}


def test_a_leg_is_picked_by_what_one_of_its_values_says():
    job = CI["jobs"]["test"]
    assert workflow_job.pick_leg(job, "Debian rustc-web")["wasm"] == "debian"
    with pytest.raises(workflow_job.JobFailed, match="matches 3"):
        workflow_job.pick_leg(job, "rust")


def test_every_step_of_the_test_job_can_be_run_here():
    job = CI["jobs"]["test"]
    assert job["container"]["image"].startswith("debian:")
    actions = {step["uses"].partition("@")[0] for step in job["steps"] if "uses" in step}
    assert actions <= EMULATED, f"test:workflow cannot do {actions - EMULATED}"
    assert {str(step.get("if", "success()")) for step in job["steps"]} <= {"success()", "failure()", "always()"}
