"""Delta updates (RFC 9842) across a release, in a real browser: a reader opens pages of the old
release in Debian's headless Chromium, which caches its bundles (each says Use-As-Dictionary for
all its versions). The old server is then replaced by the new one on the same origin, and the
reader opens the same pages again. Each new bundle must arrive against the old one as a
dictionary (dcb or dcz), in fewer bytes than brotli, and every page must render with no console
error or failed request. Prints each bundle's bytes as received and as brotli.

  python -m harness.release_in_chromium --old CMD --new CMD --site NEW_SITE
      CMD is a server command with @PORT@ for its port; `mise run test:rolling-update` runs it
      with the two releases it builds (lib.sh's ensure_rollout_releases), under the project's venv
"""

import argparse
import os
import pathlib
import sys

from playwright.sync_api import sync_playwright

from harness.ports import free_port
from harness.raw_http import brotli_on_the_wire
from harness.rolling_update import BUNDLE, FINGERPRINTS, start
from harness.site import pages_of

DICTIONARY_CODINGS = {"dcb", "dcz"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", required=True)
    parser.add_argument("--new", required=True)
    parser.add_argument("--site", required=True, help="the new release's built site")
    args = parser.parse_args()
    pages = pages_of(pathlib.Path(args.site))[:3]
    port = free_port()
    # localhost, not 127.0.0.1: Chromium keeps dictionaries only for secure contexts.
    base = f"http://localhost:{port}"
    problems, codings, bundles = [], {}, {}
    server = start(args.old, port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                args=["--no-sandbox", "--disable-dev-shm-usage"],
            )
            context = browser.new_context()
            page = context.new_page()
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            # ERR_ABORTED is the browser cancelling a request itself, as it does with a late
            # favicon when the next page is opened; a server that fails it shows otherwise.
            page.on(
                "requestfailed",
                lambda r: (
                    problems.append(f"failed: {r.url} ({r.failure})") if r.failure != "net::ERR_ABORTED" else None
                ),
            )

            def bundle_answered(response):
                path = response.url.removeprefix(base)
                if BUNDLE.match(path.lstrip("/")) and FINGERPRINTS["new"] in path:
                    codings[path] = response.headers.get("content-encoding")

            page.on("response", bundle_answered)
            for path in pages:
                page.goto(base + path, wait_until="networkidle")
            server.terminate()
            server.wait(timeout=30)
            server = start(args.new, port)
            for path in pages:
                page.goto(base + path, wait_until="networkidle")
                # What the browser received for each bundle, headers included (Resource Timing).
                for entry in page.evaluate(
                    "performance.getEntriesByType('resource').map(e => [e.name, e.transferSize])"
                ):
                    bundle = entry[0].removeprefix(base)
                    if bundle in codings and entry[1] > 0:
                        bundles[bundle] = (codings[bundle], entry[1])
            browser.close()
        brotli = {path: brotli_on_the_wire(base, path) for path in bundles}
    finally:
        server.terminate()
        server.wait(timeout=30)

    for path, (coding, received) in sorted(bundles.items()):
        print(f"{path}: {coding} {received} bytes, brotli {brotli[path]} bytes")
    received_total = sum(received for _, received in bundles.values())
    print(
        f"release in Chromium: {len(bundles)} new bundles arrived in {received_total} bytes against "
        f"{sum(brotli.values())} as brotli, headers included, over {len(pages)} pages"
    )
    failures = problems + [
        f"{path}: {coding}, not against the old version"
        for path, (coding, _) in bundles.items()
        if coding not in DICTIONARY_CODINGS
    ]
    if not bundles:
        failures.append("no bundle of the new release was loaded: the test measured nothing")
    elif received_total >= sum(brotli.values()):
        failures.append("the deltas are not smaller than brotli")
    for failure in failures:
        print(f"  {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
