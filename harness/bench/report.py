"""The benchmark's report: the performance page's tables and chart, rendered from the saved
figures alone (run.py saves them in RESULTS), so the page can be redrawn without a rerun:

  python -m harness.bench.report [RESULTS] [--page site/docs/performance.md]
"""

import argparse
import json
import pathlib
import statistics
import sys

from harness.bench.servers import CEILING_ONLY, NATIVE_CEILING, SPIN_POOLING, WITH_METRICS
from harness.workspace import ROOT

# Where `mise run bench` saves its figures.
RESULTS = ROOT / "target" / "bench" / "results.json"
PAGE = ROOT / "site" / "docs" / "performance.md"


def runs_of(results: dict, server: str, case: str) -> list[dict]:
    """The wrk runs of `server` on `case`, in round order."""
    return [run for run in results["runs"] if run["server"] == server and run["case"] == case]


def summarize(results: dict) -> dict[tuple[str, str], dict]:
    """Per server and case: the medians over the rounds, and the socket errors wrk saw."""
    summary = {}
    for key in dict.fromkeys((run["server"], run["case"]) for run in results["runs"]):
        runs = runs_of(results, *key)
        summary[key] = {
            "rps": statistics.median(r["rps"] for r in runs),
            "p50": statistics.median(r["p50"] for r in runs),
            "p99": statistics.median(r["p99"] for r in runs),
            "errors": "; ".join(sorted({r["errors"] for r in runs if r["errors"]})),
        }
    return summary


def round_ratio(results: dict, server: str, against: str) -> float:
    """`server`'s req/s on the small page over `against`'s, the median of the rounds' ratios:
    both ran in the same round, so the machine's drift between rounds does not enter it."""
    pairs = zip(runs_of(results, server, "small page"), runs_of(results, against, "small page"), strict=True)
    return statistics.median(a["rps"] / b["rps"] for a, b in pairs)


def ceilings(results: dict) -> dict[str, float]:
    """The component against the empty one (per host configuration, by its suffix), runtime-shim
    with metrics against without, and runtime-shim against the native ceiling and nginx."""
    ceiling = {
        suffix: round_ratio(results, f"component{suffix}", f"empty component{suffix}")
        for suffix in ("", f", {SPIN_POOLING}")
    }
    ceiling[WITH_METRICS] = round_ratio(results, WITH_METRICS, "runtime-shim")
    for name in (NATIVE_CEILING, "nginx"):
        ceiling[name] = round_ratio(results, "runtime-shim", name)
    return ceiling


def table(header: list[str], align: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table."""
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(align) + " |",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def render(results: dict) -> str:
    """The report's Markdown: every table of the performance page, from the saved figures."""
    summary, ceiling, facts = summarize(results), ceilings(results), results["facts"]
    settings, cases, small = results["settings"], results["cases"], results["small"]
    raw_text, file_count = results["raw_text"], results["files"]
    names = ["runtime-shim", "component", "nginx", "python http.server"]
    out = []
    out.append(f"Measured {results['measured']} on {results['machine']}.")
    out.append(
        f"wrk: {settings['threads']} threads, {settings['connections']} connections, {settings['duration']} s per run, "
        f"{settings['rounds']} rounds with the servers interleaved (order rotated each round); medians. "
        f"The small page is `{small}`."
    )
    out.append("")
    out.append("### Requests per second")
    out.append("")
    rows = []
    for case in cases:
        shim, nginx, python = (summary[(n, case)]["rps"] for n in ("runtime-shim", "nginx", "python http.server"))
        rows.append(
            [
                case,
                *(f"{summary[(n, case)]['rps']:,.0f}" for n in names),
                f"{shim / nginx:.2f}×",
                f"{shim / python:.1f}×",
            ]
        )
    out += table(
        ["case", *names, "runtime-shim ÷ nginx", "runtime-shim ÷ python"], ["---", *["---:"] * (len(names) + 2)], rows
    )
    out.append("")
    out.append("### Latency, p50 / p99 (ms)")
    out.append("")
    rows = [
        [case, *(f"{summary[(n, case)]['p50']:.2f} / {summary[(n, case)]['p99']:.2f}" for n in names)] for case in cases
    ]
    out += table(["case", *names], ["---", *["---:"] * len(names)], rows)
    out.append("")
    out.append("### The component against the host's ceiling")
    out.append("")
    out.append(
        "The small page from the docs component and from a component that returns 12 fixed "
        "bytes, under the same host, in two configurations of wasmtime's pooling allocator. "
        "Requests per second are medians over the rounds; the ratio is the median of the "
        "rounds' ratios, each of two runs in the same round:"
    )
    out.append("")
    out.append("| host configuration | component | empty component | component ÷ empty |")
    out.append("| --- | ---: | ---: | ---: |")
    for label, suffix in [
        ("`wasmtime serve`, wasmtime's defaults", ""),
        (f"{SPIN_POOLING} (2 MiB kept resident)", f", {SPIN_POOLING}"),
    ]:
        component = summary[(f"component{suffix}", "small page")]["rps"]
        empty = summary[(f"empty component{suffix}", "small page")]["rps"]
        out.append(f"| {label} | {component:,.0f} | {empty:,.0f} | **{ceiling[suffix]:.2f}×** |")
    out.append("")
    out.append("### runtime-shim against its ceiling")
    out.append("")
    out.append(
        "The small page from runtime-shim and from the native ceiling, a server on the same stack "
        "(hyper 1, tokio, one connection task each) that answers every request with the page's "
        "bytes from memory (`bench/native-ceiling`). The ratios are medians of the rounds' ratios:"
    )
    out.append("")
    out.append("| runtime-shim | native ceiling | nginx | runtime-shim ÷ ceiling | runtime-shim ÷ nginx |")
    out.append("| ---: | ---: | ---: | ---: | ---: |")
    shim, native, nginx = (summary[(n, "small page")]["rps"] for n in ("runtime-shim", NATIVE_CEILING, "nginx"))
    out.append(
        f"| {shim:,.0f} | {native:,.0f} | {nginx:,.0f} | **{ceiling[NATIVE_CEILING]:.2f}×** | {ceiling['nginx']:.2f}× |"
    )
    out.append("")
    out.append("### The cost of metrics")
    out.append("")
    out.append(
        "The small page from runtime-shim as the chart runs it, recording its Prometheus metrics "
        "(`--metrics-listen`, see [Operations](operations.md)), and without. The ratio is the median "
        "of the rounds' ratios:"
    )
    out.append("")
    out.append("| without metrics | with metrics | with ÷ without |")
    out.append("| ---: | ---: | ---: |")
    metered = summary[(WITH_METRICS, "small page")]["rps"]
    out.append(f"| {shim:,.0f} | {metered:,.0f} | **{ceiling[WITH_METRICS]:.2f}×** |")
    out.append("")
    out.append("### Bytes on the wire, start-up and memory")
    out.append("")
    out.append(
        f"Crawl: every one of the {file_count} files once, headers included. Text files are {raw_text:,} bytes raw."
    )
    out.append("")
    out.append(
        "| server | crawl, no compression | crawl, `br, gzip` | text files with `br, gzip` ÷ raw text | first 200 after start | peak RSS |"
    )
    out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in names + sorted(CEILING_ONLY):
        f = facts[name]
        if "crawl_identity" in f:
            identity, compressed = f["crawl_identity"][0], f["crawl_compressed"][0]
            ratio = f"{f['crawl_compressed'][1] / raw_text:.0%}"
            crawl_cells = f"{identity:,} | {compressed:,} | {ratio}"
        else:
            crawl_cells = "– | – | –"
        out.append(f"| {name} | {crawl_cells} | {f['first_200_ms']:.1f} ms | {f['peak_rss_kib'] / 1024:.1f} MiB |")
    errors = [f"{n} / {c}: {s['errors']}" for (n, c), s in summary.items() if s["errors"]]
    statuses = [
        f"{n}: {k.split(':', 1)[1]} → {v}" for n, f in facts.items() for k, v in f.items() if k.startswith("status:")
    ]
    out.append("")
    out.append("Status each server gave per case: " + "; ".join(statuses) + ".")
    if errors:
        out.append("")
        out.append("wrk socket errors: " + "; ".join(errors) + ".")
    return "\n".join(out)


def render_large_site(found: dict) -> str:
    out = ["", "### A large third-party site, uncompressed", ""]
    out.append(
        f"`{found['root']}`: {found['files']:,} files, {found['raw_bytes']:,} bytes, built into a "
        f"{found['binary_bytes'] / 1e6:.1f} MB runtime-shim. nginx serves the same folder with sendfile. "
        "Each page is asked for without `Accept-Encoding`, so both send its bytes as they are: runtime-shim "
        "sends bodies from 128 KiB to 1 MiB from its own executable with sendfile, like nginx, and the "
        "others from memory. CPU time is the whole machine's per request, wrk's included (on loopback both "
        "ends' kernel work is shared between them); medians of the rounds:"
    )
    out.append("")
    out.append("| page | bytes | runtime-shim | nginx | runtime-shim ÷ nginx | CPU per request, runtime-shim / nginx |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for path, size in found["sizes"].items():
        shim, nginx = (
            [r for r in found["runs"] if r["server"] == s and r["path"] == path] for s in ("runtime-shim", "nginx")
        )
        ratio = statistics.median(s["rps"] / n["rps"] for s, n in zip(shim, nginx, strict=True))
        rps = [statistics.median(r["rps"] for r in runs) for runs in (shim, nginx)]
        cpu = [statistics.median(r["cpu_us"] for r in runs) for runs in (shim, nginx)]
        out.append(
            f"| `{path}` | {size:,} | {rps[0]:,.0f} | {rps[1]:,.0f} | **{ratio:.2f}×** | {cpu[0]:,.0f} / {cpu[1]:,.0f} µs |"
        )
    out.append("")
    out.append(
        "First 200 after start (median of 5): runtime-shim "
        f"{found['first_200_ms']['runtime-shim']:.1f} ms, nginx {found['first_200_ms']['nginx']:.1f} ms. "
        f"Peak RSS: runtime-shim {found['peak_rss_kib']['runtime-shim'] / 1024:.1f} MiB, "
        f"nginx {found['peak_rss_kib']['nginx'] / 1024:.1f} MiB (master and worker)."
    )
    return "\n".join(out)


def chart(summary: dict, cases: list[str]) -> str:
    """A grouped bar chart of req/s as SVG, with no dependencies."""
    names = ["runtime-shim", "component", "nginx", "python http.server"]
    colors = ["#3949ab", "#8e24aa", "#43a047", "#fb8c00"]
    width, height, left, top, bottom = 760, 320, 60, 40, 60
    plot_h = height - top - bottom
    peak = max(summary[(n, c)]["rps"] for n in names for c in cases)
    group_w = (width - left - 20) / len(cases)
    bar_w = group_w / (len(names) + 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<text x="{left}" y="20" font-size="14">Requests per second (median of rounds; higher is better)</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 20}" y2="{top + plot_h}" stroke="#666"/>',
    ]
    for i, case in enumerate(cases):
        x0 = left + i * group_w
        for j, name in enumerate(names):
            value = summary[(name, case)]["rps"]
            h = plot_h * value / peak
            x = x0 + (j + 0.5) * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w * 0.9:.1f}" height="{h:.1f}" fill="{colors[j]}"><title>{name}: {value:,.0f} req/s</title></rect>'
            )
        parts.append(f'<text x="{x0 + group_w / 2:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{case}</text>')
    for j, name in enumerate(names):
        x = left + j * 170
        parts.append(f'<rect x="{x}" y="{height - 22}" width="12" height="12" fill="{colors[j]}"/>')
        parts.append(f'<text x="{x + 16}" y="{height - 12}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_page(page: pathlib.Path, results: dict) -> str:
    """Writes the performance page (the intro, the chart, the report) and its chart; returns
    the report."""
    report = render(results)
    if results.get("large_site"):
        report += "\n" + render_large_site(results["large_site"])
    svg = page.parent / "assets" / "performance.svg"
    svg.parent.mkdir(parents=True, exist_ok=True)
    svg.write_text(chart(summarize(results), results["cases"]))
    intro = (ROOT / "bench" / "performance-intro.md").read_text()
    page.write_text(
        intro.rstrip()
        + "\n\n## Results\n\n![Requests per second by server and case](assets/performance.svg)\n\n"
        + report
        + "\n"
    )
    print(f"wrote {page} and {svg}", file=sys.stderr)
    return report


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="?", type=pathlib.Path, default=RESULTS)
    parser.add_argument("--page", type=pathlib.Path, default=PAGE)
    args = parser.parse_args(argv)
    write_page(args.page, json.loads(args.results.read_text()))


if __name__ == "__main__":
    main(sys.argv[1:])
