"""What the Python harnesses share to run servers on loopback: the benchmark (bench/run.py), the
rolling update (project-tests/rolling_update.py), the loopback cluster (project-tests/e2e/) and
the browser tests. Ports, starting a server and waiting until it listens, nginx, the site's
page URLs, and a response's bytes on the wire, each written once.

The harnesses are scripts run from the checkout, so they import this package by putting the
checkout on sys.path (project-tests/paths.py does it for pytest).
"""

from loopback.nginx import nginx_command
from loopback.ports import free_port, wait_listening
from loopback.site import page_url, pages_of
from loopback.wire import brotli_on_the_wire

__all__ = ["brotli_on_the_wire", "free_port", "nginx_command", "page_url", "pages_of", "wait_listening"]
