"""The benchmark's report is drawn from the saved figures alone: a results file renders the
performance page's tables and chart, and the ratios are medians of the rounds' ratios, as the
page says, not ratios of the medians."""

import json
import subprocess
import sys

from harness.bench.report import render, summarize
from harness.bench.servers import CEILING_ONLY, NATIVE_CEILING, SPIN_POOLING, WITH_METRICS

MAIN = ["runtime-shim", "component", "nginx", "python http.server"]
CASES = ["small page", "search index, br", "missing page (404)", "revalidation (304)"]


def results() -> dict:
    # Two rounds. The component and its empty twin: 100 vs 200, then 300 vs 300: round ratios
    # 0.5 and 1.0 (median 0.75), medians 200 and 250 (whose ratio would be 0.8).
    rps = {"component": [100, 300], "empty component": [200, 300], "runtime-shim": [1000, 1200], "nginx": [500, 600]}
    runs = []
    for round_number in range(2):
        for case in CASES:
            for server in MAIN + sorted(CEILING_ONLY):
                if server in CEILING_ONLY and case != "small page":
                    continue
                value = rps.get(server.removesuffix(f", {SPIN_POOLING}"), [400, 400])[round_number]
                figures = {"rps": value, "requests": value * 5, "p50": 0.5, "p99": 2.0, "errors": ""}
                runs.append({"server": server, "case": case, "round": round_number, **figures})
    facts = {}
    for server in MAIN + sorted(CEILING_ONLY):
        facts[server] = {"first_200_ms": 3.0, "peak_rss_kib": 10240}
        if server not in CEILING_ONLY:
            facts[server] |= {"crawl_identity": [9000, 6000], "crawl_compressed": [4000, 1500]}
            facts[server] |= {f"status:{case}": 200 for case in CASES}
    return {
        "measured": "2026-12-07",
        "machine": "2 cores (test CPU), 24 GiB, Linux test",
        "settings": {"threads": 2, "connections": 32, "duration": 5, "rounds": 2},
        "small": "/small/",
        "files": 12,
        "raw_text": 6000,
        "cases": CASES,
        "runs": runs,
        "facts": facts,
        "large_site": None,
    }


def test_the_component_against_its_ceiling_is_the_median_of_the_rounds_ratios():
    report = render(results())
    assert "| `wasmtime serve`, wasmtime's defaults | 200 | 250 | **0.75×** |" in report
    assert summarize(results())[("component", "small page")]["rps"] == 200


def test_every_table_of_the_page_is_drawn_from_the_results():
    report = render(results())
    assert report.startswith("Measured 2026-12-07 on 2 cores (test CPU)")
    for heading in ("Requests per second", "Latency, p50 / p99 (ms)", "runtime-shim against its ceiling",
                    "The cost of metrics", "Bytes on the wire, start-up and memory"):  # fmt: skip
        assert f"### {heading}" in report
    assert "| small page | 1,100 | 200 | 550 | 400 | 2.00× | 2.8× |" in report
    assert f"| {NATIVE_CEILING} | – | – | – | 3.0 ms | 10.0 MiB |" in report
    assert WITH_METRICS in report


def test_the_page_is_redrawn_from_a_results_file_without_a_rerun(tmp_path):
    saved = tmp_path / "results.json"
    saved.write_text(json.dumps(results()))
    page = tmp_path / "docs" / "performance.md"
    page.parent.mkdir()
    subprocess.run([sys.executable, "-m", "harness.bench.report", str(saved), "--page", str(page)], check=True)
    text = page.read_text()
    assert "## Results" in text and "![Requests per second by server and case](assets/performance.svg)" in text
    assert "**0.75×**" in text
    svg = (page.parent / "assets" / "performance.svg").read_text()
    assert svg.startswith("<svg") and "runtime-shim: 1,100 req/s" in svg
