"""The site's pages by the URLs a browser asks for them."""

import pathlib


def page_url(key: str) -> str:
    """The URL of the file at `key` (a path relative to the site's root): a folder's
    `index.html` is asked for by the folder. The core's rule (http-text's `page_path`)."""
    if key == "index.html" or key.endswith("/index.html"):
        return "/" + key.removesuffix("index.html")
    return "/" + key


def pages_of(site: pathlib.Path) -> list[str]:
    """The URLs of every folder page of a built site, sorted."""
    return sorted(page_url(p.relative_to(site).as_posix()) for p in site.rglob("index.html"))
