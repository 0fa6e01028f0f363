"""Compression dictionaries (RFC 9842) in a real browser: a reader opens the docs' pages one
after another in Debian's headless Chromium. The first page names the site's dictionary in its
`Link`; Chromium fetches and stores it, and from then on asks for each page with `dcb, dcz`
and `Available-Dictionary`. Pages 2 to N must arrive as dcb or dcz (whichever is smaller) in at
most 40 % of the bytes the same pages take as brotli, headers included, and render with no
console error."""

from harness.raw_http import brotli_on_the_wire
from harness.site import pages_of
from harness.workspace import ROOT

GOAL = 0.40
DICTIONARY_CODINGS = {"dcb", "dcz"}


def reading_session() -> list[str]:
    """Every page of the docs once, in the site's order; not the pages mkdocs-redirects left at
    old URLs, which answer 301 to a page of the list."""
    site = ROOT / "site" / "build"
    return [
        path
        for path in pages_of(site)
        if 'http-equiv="refresh"' not in (site / path.lstrip("/") / "index.html").read_text()
    ]


def test_pages_after_the_first_arrive_against_the_dictionary_in_at_most_40_percent_of_brotli(server, browser):
    paths = reading_session()
    assert len(paths) >= 8, paths
    context = browser.new_context()
    page = context.new_page()
    problems = []
    page.on(
        "console",
        lambda message: problems.append(f"console {message.type}: {message.text}") if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    stored = []
    context.on(
        "requestfinished",
        lambda request: stored.append(request.url) if "/assets/dictionaries/" in request.url else None,
    )

    first = page.goto(server + paths[0], wait_until="networkidle")
    assert first.headers.get("content-encoding") not in DICTIONARY_CODINGS, "the first page came before the dictionary"
    # Chromium fetches the dictionary the page's Link names once it is idle.
    page.wait_for_timeout(500)
    for _ in range(40):
        if stored:
            break
        page.wait_for_timeout(250)
    assert stored, "Chromium never fetched the dictionary the pages name"

    rows, received_total, brotli_total = [], 0, 0
    for path in paths[1:]:
        response = page.goto(server + path, wait_until="load")
        sizes = response.request.sizes()
        received = sizes["responseHeadersSize"] + sizes["responseBodySize"]
        brotli = brotli_on_the_wire(server, path)
        encoding = response.headers.get("content-encoding")
        rows.append((path, encoding, received, brotli))
        received_total += received
        brotli_total += brotli
    context.close()

    for path, encoding, received, brotli in rows:
        print(f"{path}: {encoding} {received} bytes, brotli {brotli} bytes ({received / brotli:.0%})")
    ratio = received_total / brotli_total
    codings = [encoding for _, encoding, _, _ in rows]
    print(
        f"pages 2-{len(paths)}: {received_total} bytes as received against {brotli_total} as "
        f"brotli: {ratio:.2f} ({codings.count('dcb')} as dcb, {codings.count('dcz')} as dcz)"
    )
    assert set(codings) <= DICTIONARY_CODINGS, codings
    assert ratio <= GOAL
    assert problems == []
