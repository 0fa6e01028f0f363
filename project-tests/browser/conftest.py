"""What the browser tests share: runtime-shim with the site built in, on localhost (a secure
context for Chromium, as HTTPS would be), and Debian's headless Chromium driven by Playwright."""

import os
import subprocess

import pytest
from playwright.sync_api import sync_playwright

from harness.ports import free_port
from harness.processes import http_status, wait_until


@pytest.fixture(scope="session")
def server():
    yield from serving("RUNTIME_SHIM")


@pytest.fixture(scope="session")
def versioned_server():
    """runtime-shim built with a versioned tree of the docs (SITE_VERSIONS_DIR)."""
    yield from serving("RUNTIME_SHIM_VERSIONED")


def serving(setting: str):
    binary = os.environ.get(setting)
    if not binary:
        pytest.fail(f"{setting} is not set: run `bin/mise run test:docs`, which builds it")
    port = free_port()
    process = subprocess.Popen([binary, "--listen", f"127.0.0.1:{port}", "--log-level", "warn"])
    try:
        wait_until("runtime-shim", lambda: http_status(f"http://127.0.0.1:{port}/.healthz") == 200, 10)
        # localhost, not 127.0.0.1: Chromium treats it as a secure context, as it would HTTPS.
        yield f"http://localhost:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            # Root in a container: no sandbox, and /dev/shm may be 64 MiB.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()
