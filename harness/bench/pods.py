"""Figures for one pod of each runtime on the loopback cluster (a benchmark: printed, never
asserted). `mise run bench:pods` builds what the e2e builds and calls this.

The cluster is the e2e's (harness/loopback_cluster/), given the release by the project's
push path; each runtime is deployed through the chain (ResourceSet -> HelmRelease -> pods) with
one replica. Then, per runtime:
  start to Ready   the workload is scaled from 0 to 1 pod (the native Deployment, the SpinApp):
                   from the first sight of the new pod to the kubelet's Ready, polled every 0.1 s
  first 200        from the scale-up to the first 200 for / through the Service's ClusterIP
  memory           the pod's memory cgroup (usage, and its peak); for Spin also the RSS of the
                   shim's processes, which run outside the pod's cgroup
  req/s            wrk through the ClusterIP (kube-proxy's DNAT to the pod) on / and on the
                   site's largest page, identity and brotli
"""

import argparse
import pathlib
import re
import subprocess
import sys
import tempfile
import time

from harness.chain.deliver import deploy, running_and_ready
from harness.loopback_cluster.cluster import Cluster
from harness.processes import http_status
from harness.workspace import ROOT

CGROUP_MEMORY = pathlib.Path("/sys/fs/cgroup/memory")


def workload(app: str, runtime: str) -> tuple[str, str]:
    """What scales the runtime's pods: the chart's Deployment, or the SpinApp (spin-operator
    puts its replicas on the Deployment it makes, and would undo a change made there)."""
    return ("deployment", f"{app}-deployment") if runtime == "native" else ("spinapp", f"{app}-spin")


def scale(cluster: Cluster, namespace: str, kind: str, name: str, replicas: int):
    cluster.kubectl("patch", kind, name, "-n", namespace, "--type=merge", "-p", f'{{"spec":{{"replicas":{replicas}}}}}')


def pods(cluster: Cluster, namespace: str) -> list[dict]:
    return cluster.get("pods", namespace=namespace)["items"]


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def start_to_ready(cluster: Cluster, namespace: str, kind: str, name: str, url: str) -> tuple[float, float]:
    """Scales from 0 to 1 pod: (seconds from the pod's first sight to Ready, seconds from the
    scale-up to the first 200 through the Service)."""
    scale(cluster, namespace, kind, name, 0)
    deadline = time.monotonic() + 120
    while pods(cluster, namespace):
        if time.monotonic() > deadline:
            sys.exit(f"{kind} {name}: pods still there 120 s after scaling to 0")
        time.sleep(0.2)
    began = time.monotonic()
    scale(cluster, namespace, kind, name, 1)
    seen = ready_at = answered = None
    while ready_at is None or answered is None:
        now = time.monotonic()
        if now - began > 300:
            sys.exit(f"{kind} {name}: no Ready pod answering 200 within 300 s")
        listed = pods(cluster, namespace)
        if listed and seen is None:
            seen = now
        if listed and ready_at is None and ready(listed[0]):
            ready_at = now
        if answered is None and http_status(url) == 200:
            answered = time.monotonic()
        time.sleep(0.1)
    return ready_at - seen, answered - began


def memory(pod: dict) -> tuple[int, int]:
    """The pod's memory cgroup (cgroup v1): (usage, peak) in bytes."""
    uid = pod["metadata"]["uid"]
    (folder,) = [p for p in CGROUP_MEMORY.glob(f"kubepods*/**/pod{uid}") if p.is_dir()]
    read = lambda name: int((folder / name).read_text())  # noqa: E731
    return read("memory.usage_in_bytes"), read("memory.max_usage_in_bytes")


def shim_rss(cluster: Cluster) -> int:
    """The resident memory of every containerd-shim-spin-v2 process of the node, in bytes."""
    total = 0
    for pid in cluster.node.shim_pids():
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
        if pathlib.Path(f"/proc/{pid}/exe").resolve().name == "containerd-shim-spin-v2":
            total += int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)[1]) * 1024
    return total


def wrk(url: str, seconds: int, *headers: str) -> float:
    args = [a for h in headers for a in ("-H", h)]
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", *args, url], capture_output=True, text=True, check=True
    ).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])


def largest_page(site: pathlib.Path) -> str:
    page = max(site.rglob("*.html"), key=lambda p: p.stat().st_size)
    key = page.relative_to(site).as_posix()
    return "/" + key.removesuffix("index.html")


def measure(cluster: Cluster, runtime: str, page: str, seconds: int) -> dict:
    name, _, release = deploy(cluster, runtime, f"bench-{runtime}", replicas=1)
    app = release["spec"]["values"].get("appName", "hello-world")
    service = cluster.get("service", app, namespace=name)
    base = f"http://{service['spec']['clusterIP']}:80"
    kind, workload_name = workload(app, runtime)
    to_ready, first_200 = start_to_ready(cluster, name, kind, workload_name, f"{base}/")
    (pod,) = running_and_ready(cluster, name, 1)
    figures = {"start to Ready (s)": round(to_ready, 1), "first 200 (s)": round(first_200, 1)}
    for label, url, headers in (
        ("/", f"{base}/", ()),
        (page, f"{base}{page}", ()),
        (f"{page} br", f"{base}{page}", ("Accept-Encoding: br",)),
    ):
        figures[f"req/s {label}"] = round(wrk(url, seconds, *headers))
    usage, peak = memory(pod)
    figures["pod memory (MiB)"] = f"{usage / 2**20:.1f} (peak {peak / 2**20:.1f})"
    if runtime == "spin":
        figures["shim RSS outside the pod (MiB)"] = f"{shim_rss(cluster) / 2**20:.1f}"
    cluster.kubectl("delete", "namespace", name, "--wait=false")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run (default 10)")
    parser.add_argument("--site", type=pathlib.Path, default=ROOT / "site" / "build")
    args = parser.parse_args()
    page = largest_page(args.site)
    cluster = Cluster(pathlib.Path(tempfile.mkdtemp(prefix="hello-world-bench-pods-")))
    try:
        cluster.start()
        cluster.publish()
        results = {runtime: measure(cluster, runtime, page, args.seconds) for runtime in ("native", "spin")}
    finally:
        cluster.stop()
    rows = list(dict.fromkeys(k for figures in results.values() for k in figures))
    print(f"\none pod of each runtime on the loopback cluster, through the Service (wrk -t2 -c32 -d{args.seconds}s):")
    print(f"| {'':34} | {'native':>18} | {'spin':>18} |")
    print(f"| {'-' * 34} | {'-' * 18}:| {'-' * 18}:|")
    for row in rows:
        print(f"| {row:34} | {results['native'].get(row, '-')!s:>18} | {results['spin'].get(row, '-')!s:>18} |")
    print("left on the host:", cluster.leftovers or "nothing")
    return 0 if not cluster.leftovers else 1


if __name__ == "__main__":
    sys.exit(main())
