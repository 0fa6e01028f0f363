"""Every version of the docs in one artifact, read in Debian's headless Chromium: runtime-shim
built with a versioned tree (mike's shape, `SITE_VERSIONS_DIR`), as a reader meets it. `/` and
the `latest` alias land on the default version, and Material's version selector, which reads
mike's `versions.json`, moves between versions: to the same page where the chosen version has
it, and to that version's home where it does not, as Material does. No console error on the
way. A page of one version, read after the same page of another, arrives against the
compression dictionary both versions' pages are compressed with (RFC 9842)."""

import json
import os
import pathlib

import pytest

from harness.raw_http import brotli_on_the_wire
from harness.site import pages_of

DICTIONARY_CODINGS = {"dcb", "dcz"}


@pytest.fixture(scope="module")
def tree() -> pathlib.Path:
    tree = os.environ.get("SITE_VERSIONS_DIR")
    if not tree:
        pytest.fail("SITE_VERSIONS_DIR is not set: run `bin/mise run test:docs`, which builds the tree")
    return pathlib.Path(tree)


def listed(tree: pathlib.Path) -> list[dict]:
    """mike's versions.json, newest first."""
    return json.loads((tree / "versions.json").read_text())


def watched(context, page) -> list[str]:
    """Console errors and page errors, as they happen."""
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(f"console {message.type}: {message.text}") if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # A navigation aborts what the page before it still loads (net::ERR_ABORTED): not a failure.
    context.on(
        "requestfailed",
        lambda request: (
            problems.append(f"request failed: {request.url} ({request.failure})")
            if request.failure != "net::ERR_ABORTED"
            else None
        ),
    )
    return problems


def choose_version(page, version: str) -> None:
    """What a reader does: opens the selector in the header and clicks a version."""
    page.hover(".md-version")
    page.locator(".md-version__link", has_text=version).click()


def test_the_root_and_the_latest_alias_land_on_the_default_version(versioned_server, browser, tree):
    newest = listed(tree)[0]
    assert "latest" in newest["aliases"], newest
    context = browser.new_context()
    page = context.new_page()
    problems = watched(context, page)
    for path, landing in [("/", "/"), ("/latest/http/?q=1", "/http/?q=1")]:
        response = page.goto(versioned_server + path, wait_until="load")
        assert response.status == 200, path
        assert page.url == f"{versioned_server}/{newest['version']}{landing}", path
    context.close()
    assert problems == []


def test_the_version_selector_keeps_the_page_where_the_version_has_it_and_opens_its_home_where_not(
    versioned_server, browser, tree
):
    versions = listed(tree)
    newest, oldest = versions[0]["version"], versions[-1]["version"]
    newest_pages = set(pages_of(tree / newest))
    oldest_pages = set(pages_of(tree / oldest))
    kept = "/http/"
    assert kept in newest_pages and kept in oldest_pages, "both versions have the HTTP page"
    only_newest = sorted(newest_pages - oldest_pages)
    assert only_newest, f"{newest} has no page that {oldest} lacks: the fixture should be versions apart"

    context = browser.new_context()
    page = context.new_page()
    problems = watched(context, page)
    page.goto(f"{versioned_server}/{newest}{kept}", wait_until="networkidle")
    shown = [link.inner_text().strip() for link in page.query_selector_all(".md-version__list .md-version__link")]
    assert shown == [v["title"] for v in versions], "the selector lists versions.json"
    assert page.inner_text(".md-version__current").strip() == newest

    choose_version(page, oldest)
    page.wait_for_url(f"{versioned_server}/{oldest}{kept}")

    page.goto(f"{versioned_server}/{newest}{only_newest[0]}", wait_until="networkidle")
    choose_version(page, oldest)
    page.wait_for_url(f"{versioned_server}/{oldest}/")
    context.close()
    assert problems == []


def test_the_same_page_of_another_version_arrives_against_the_dictionary(versioned_server, browser, tree):
    versions = [v["version"] for v in listed(tree)]
    common = sorted(set.intersection(*(set(pages_of(tree / v)) for v in versions)))
    assert len(common) >= 8, common
    context = browser.new_context()
    page = context.new_page()
    problems = watched(context, page)
    stored = []
    context.on(
        "requestfinished",
        lambda request: stored.append(request.url) if "/assets/dictionaries/" in request.url else None,
    )
    page.goto(f"{versioned_server}/{versions[0]}/", wait_until="networkidle")
    for _ in range(40):
        if stored:
            break
        page.wait_for_timeout(250)
    assert stored, "Chromium never fetched the dictionary the pages name"

    # A reader of the newest version opens each page, then the same page in the older ones.
    rows = []
    for path in common:
        for version in versions:
            url = f"/{version}{path}"
            response = page.goto(versioned_server + url, wait_until="load")
            sizes = response.request.sizes()
            received = sizes["responseHeadersSize"] + sizes["responseBodySize"]
            rows.append((version, url, response.headers.get("content-encoding"), received))
    context.close()

    for version in versions:
        mine = [(url, coding, received) for v, url, coding, received in rows if v == version]
        received = sum(r for _, _, r in mine)
        brotli = sum(brotli_on_the_wire(versioned_server, url) for url, _, _ in mine)
        codings = [coding for _, coding, _ in mine]
        print(
            f"{version}: {len(mine)} pages, {received} bytes as received against {brotli} as brotli: "
            f"{received / brotli:.2f} ({codings.count('dcb')} as dcb, {codings.count('dcz')} as dcz)"
        )
    assert {coding for _, _, coding, _ in rows} <= DICTIONARY_CODINGS
    assert problems == []
