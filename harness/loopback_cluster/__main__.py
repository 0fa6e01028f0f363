"""`mise run cluster`: the end-to-end test's cluster, for a person to try the chart with no
Docker and no cloud. `up` starts it (control plane, registry, node, metrics-server,
spin-operator), publishes the release into its registry with the project's push path, deploys
the chart as the deployment docs describe (the harness in test/, the ResourceSet reconciled,
the chart from the registry), waits until the ingress controller (Traefik, in a pod) serves it,
writes STATE and serves until SIGTERM or SIGINT; then it stops everything and puts the host back.

  python -m harness.loopback_cluster up   run in the foreground (mise-tasks/cluster runs it detached)
"""

import json
import os
import shutil
import signal
import sys
import threading

from harness.chain.deliver import deploy, running_and_ready
from harness.chain.render import harness_env
from harness.loopback_cluster import ingress_controller
from harness.loopback_cluster.cluster import Cluster
from harness.workspace import ROOT

HOME = ROOT / "target" / "cluster"
STATE = HOME / "state.json"


def up(ingress_ports: tuple[int, int]) -> int:
    if STATE.exists():
        sys.exit(f"{STATE} exists: a cluster is running (`bin/mise run cluster -- down` stops it)")
    workdir = HOME / "run"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    cluster = Cluster(workdir, ingress_ports)
    try:
        cluster.start()
        cluster.publish()
        env = harness_env(**cluster.release)
        runtime, customer = env["APP_RUNTIME"], env["APP_CUSTOMER"]
        name, _repo, release = deploy(cluster, runtime, customer)
        app = release["spec"]["values"].get("appName", "hello-world")
        # Spin pods take longer: the shim pulls the artifact and compiles the component first.
        running_and_ready(cluster, name, release["spec"]["values"].get("replicaCount", 3), timeout=300)
        host = ingress_controller.serving(cluster, name, app)
        STATE.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "kubeconfig": str(cluster.kubeconfig),
                    "host": host,
                    "ca": str(cluster.ca_file),
                    "http": f"127.0.0.1:{ingress_ports[0]}",
                    "https": f"127.0.0.1:{ingress_ports[1]}",
                    "runtime": runtime,
                    "namespace": name,
                    "registry": cluster.registry.address,
                },
                indent=2,
            )
        )
        print(f"ready: {runtime} runtime in namespace {name}", flush=True)
        stopping.wait()
        return 0
    finally:
        cluster.stop()
        STATE.unlink(missing_ok=True)
        print("stopped; left on the host:", cluster.leftovers or "nothing", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] != ["up"]:
        sys.exit(__doc__)
    sys.exit(
        up(
            (
                int(os.environ.get("CLUSTER_INGRESS_PORT", "8080")),
                int(os.environ.get("CLUSTER_INGRESS_TLS_PORT", "8443")),
            )
        )
    )
