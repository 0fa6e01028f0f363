"""Version skew across a rolling update, measured: two versions of the site whose stylesheets
and scripts differ, the old and the new server behind one nginx upstream, the traffic switched
from old to new (nginx reload, then the old server stopped with its signal), and clients loading
every page with all its assets the whole time. Prints the counts; fails on any asset 404, 5xx or
reset connection. `mise run test:rolling-update` builds the versions and runs it for runtime-shim
and for the component under `wasmtime serve`.

  python -m harness.rolling_update versions SITE OUT        write OUT/old and OUT/new from the built SITE
  python -m harness.rolling_update run --name N --old CMD --new CMD [--stop SIGTERM]
      CMD is a server command with @PORT@ for its port, e.g. "target/old-shim --listen 127.0.0.1:@PORT@"
"""

import argparse
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from harness.dictionary_delta import delta_update
from harness.load import Assets, Client, loading, plain, totals
from harness.nginx import proxy
from harness.ports import free_port, wait_listening
from harness.site import pages_of

# The bundles that change between the two versions, by the fingerprint in their names.
BUNDLE = re.compile(r"^(assets/(?:stylesheets|javascripts)/[a-z]+)\.([0-9a-f]{8})(\.min\.(?:css|js))$")
# The fingerprint each version's bundles get, so a client can tell whose asset it asked for.
FINGERPRINTS = {"old": "0000aaaa", "new": "0000bbbb"}


def versions(site: pathlib.Path, out: pathlib.Path) -> None:
    """Two copies of the site that differ only in their fingerprinted stylesheets and scripts:
    each bundle gets a version-specific fingerprint and a line that says which version it is,
    and every page names its version's bundles."""
    for version, fingerprint in FINGERPRINTS.items():
        root = out / version
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(site, root)
        renames = {}
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            match = BUNDLE.match(rel)
            if not match:
                continue
            renamed = f"{match[1]}.{fingerprint}{match[3]}"
            comment = f"\n/* hello-world rolling-update test: {version} */\n"
            path.rename(root / renamed)
            with open(root / renamed, "a") as bundle:
                bundle.write(comment)
            renames[rel.rsplit("/", 1)[1]] = renamed.rsplit("/", 1)[1]
        if not renames:
            sys.exit(f"{site}: no fingerprinted bundles under assets/ to vary")
        for page in root.rglob("*.html"):
            text = page.read_text()
            for old_name, new_name in renames.items():
                text = text.replace(old_name, new_name)
            page.write_text(text)
        print(f"{version}: {root} ({', '.join(sorted(renames.values()))})")


def start(command: str, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        shlex.split(command.replace("@PORT@", str(port))), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_listening(port, process)
    except RuntimeError as error:
        sys.exit(f"{command}: {error}")
    return process


def run(args) -> int:
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="hello-world-rolling-"))
    workdir.chmod(0o755)
    old_port, new_port, proxy_port = free_port(), free_port(), free_port()
    pages = pages_of(pathlib.Path(args.site))
    old = start(args.old, old_port)
    front = proxy(workdir, proxy_port, old_port)
    new = None
    straddle = {"checked": 0, "failed": []}
    deltas = []
    try:
        try:
            wait_listening(proxy_port, front, timeout=10)
        except RuntimeError as error:
            sys.exit(f"nginx did not start: {error}")
        with loading(plain(proxy_port), pages, args.clients) as clients:
            # A page that the old version serves, whose assets are asked for after the switch.
            probe = Client(plain(proxy_port), [], threading.Event())
            _, body = probe.get("/")
            parser = Assets("/")
            parser.feed(body.decode("utf-8", "replace"))
            time.sleep(args.seconds)

            new = start(args.new, new_port)
            proxy(workdir, proxy_port, new_port, reload=True)
            time.sleep(1)  # nginx's old worker finishes what it has in hand, then exits
            for asset in parser.found:
                status, _ = probe.get(asset)
                straddle["checked"] += 1
                if status != 200:
                    straddle["failed"].append(f"{asset}: {status}")
                elif BUNDLE.match(asset.lstrip("/")):
                    try:
                        deltas.append(delta_update(proxy_port, pathlib.Path(args.site), asset, workdir))
                    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
                        straddle["failed"].append(f"delta: {error}")
            old.send_signal(getattr(signal, args.stop))
            old.wait(timeout=30)
            time.sleep(args.seconds)
    finally:
        for process in (front, new, old):
            if process and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    counts = totals(clients)
    failures = [f for c in clients for f in c.failures] + straddle["failed"]
    print(
        f"rolling update ({args.name}): {counts['pages']} pages and {counts['assets']} assets "
        f"loaded across the switch, {straddle['checked']} of the old version's assets asked for "
        f"after it; {counts['asset 404s']} asset 404s, {counts['5xx']} 5xx, "
        f"{counts['resets']} reset connections, {len(straddle['failed'])} old assets missing or deltas wrong; "
        f"{len(deltas)} bundles as deltas against the old version: {sum(d for d, _ in deltas)} bytes, "
        f"against {sum(b for _, b in deltas)} as brotli"
    )
    for failure in failures[:20]:
        print(f"  {failure}")
    if counts["pages"] == 0 or straddle["checked"] == 0 or not deltas:
        print("  nothing was loaded: the test measured nothing")
        return 1
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("versions")
    make.add_argument("site", type=pathlib.Path)
    make.add_argument("out", type=pathlib.Path)
    go = commands.add_parser("run")
    go.add_argument("--name", required=True)
    go.add_argument("--site", required=True, help="either version's site folder: the pages to load")
    go.add_argument("--old", required=True)
    go.add_argument("--new", required=True)
    go.add_argument("--stop", default="SIGTERM", help="the signal that stops the old server")
    go.add_argument("--clients", type=int, default=4)
    go.add_argument("--seconds", type=float, default=2.0, help="traffic before and after the switch")
    args = parser.parse_args()
    if args.command == "versions":
        versions(args.site, args.out)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
