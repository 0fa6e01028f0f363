"""Every page of the docs as a reader sees it at 1280 px: Debian's headless Chromium, driven by
Playwright with the system browser, loads each page of the sitemap from runtime-shim with the
site built in (the server users run, with its Content-Security-Policy). A page passes with no
console error, no failed request and no 4xx/5xx, every Mermaid diagram drawn at a legible size,
and a height a reader can take in."""

import xml.etree.ElementTree as ElementTree
from urllib.parse import urlsplit

import pytest

from harness.workspace import ROOT

VIEWPORT = {"width": 1280, "height": 800}
# Mermaid draws 16 px text and scales the diagram down to the content column (688 px at 1280):
# below 11 px the labels are hard to read. A left-to-right chain of eight boxes came out at 5 px.
SMALLEST_TEXT_PX = 11
# Eight screens of the 800-px viewport. The deployment page had grown to 10,000 px, one wall of
# text; now the tallest page, HTTP behaviour, is 5,989 px.
TALLEST_PAGE_PX = 8 * VIEWPORT["height"]
# Material draws each diagram in a closed shadow root; opened here so the test can measure it.
OPEN_SHADOW_ROOTS = (
    "const attach = Element.prototype.attachShadow;"
    "Element.prototype.attachShadow = function (init) { return attach.call(this, {...init, mode: 'open'}); };"
)


def pages() -> list[str]:
    """The path of every page in the built site's sitemap."""
    sitemap = ElementTree.parse(ROOT / "site" / "build" / "sitemap.xml")
    return [urlsplit(loc.text).path for loc in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]


def test_the_sitemap_lists_every_page_of_the_nav():
    assert len(pages()) >= 10, pages()


@pytest.mark.parametrize("path", pages() if (ROOT / "site" / "build" / "sitemap.xml").exists() else [])
def test_a_page_renders_with_no_error_and_legible_diagrams(server, browser, path):
    page = browser.new_page(viewport=VIEWPORT)
    page.add_init_script(OPEN_SHADOW_ROOTS)
    problems = []
    page.on(
        "console",
        lambda message: problems.append(f"console {message.type}: {message.text}") if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url} ({request.failure})"))
    page.on(
        "response",
        lambda response: problems.append(f"{response.status}: {response.url}") if response.status >= 400 else None,
    )
    page.goto(server + path, wait_until="networkidle")
    page.wait_for_function(
        "[...document.querySelectorAll('.mermaid')].every(d => d.shadowRoot && d.shadowRoot.querySelector('svg'))",
        timeout=10_000,
    )
    diagrams = page.evaluate("""() => [...document.querySelectorAll('.mermaid')].map(d => {
        const svg = d.shadowRoot.querySelector('svg');
        const label = d.shadowRoot.querySelector('.nodeLabel, text');
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return parseFloat(getComputedStyle(label).fontSize) * Math.min(scale, 1);
    })""")
    height = page.evaluate("document.documentElement.scrollHeight")
    page.close()
    print(f"{path}: {height} px tall, diagrams' text {[round(d, 1) for d in diagrams]} px")
    assert problems == []
    assert all(size >= SMALLEST_TEXT_PX for size in diagrams), diagrams
    assert height <= TALLEST_PAGE_PX
