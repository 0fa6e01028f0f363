"""A Kubernetes control plane on loopback, from real parts, for the end-to-end test:

- etcd as the store, kube-apiserver (admission as in any cluster: PodSecurity,
  ServiceAccount, RuntimeClass, NamespaceLifecycle, ...), kube-controller-manager with its
  default controllers;
- spin-operator (webhooks off), reconciling SpinApps into Deployments;
- ResourceSets reconciled with flux-operator's own code: its CLI renders the ResourceSet and
  its providers as read from the API server, and the result is applied server-side under
  flux-operator's field manager (its controller cannot be built from its module; see
  scripts/lib.sh);
- no kubelet and no scheduler: pods are created and admitted, and stay Pending.

Each binary is built from its module by scripts/lib.sh (ensure_cluster_tools), which exports
their paths; `mise run e2e` sets them. Every step that fails says which step and what the
component printed.
"""

import json
import os
import pathlib
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request

import yaml

from conftest import DATA
from pipeline import build_resourceset

TOOLS = {
    "kube-apiserver": "KUBE_APISERVER",
    "kube-controller-manager": "KUBE_CONTROLLER_MANAGER",
    "etcd": "ETCD",
    "flux-operator": "FLUX_OPERATOR",
    "spin-operator": "SPIN_OPERATOR",
    "helm": "HELM",
    "kubectl": "KUBECTL",
}


class StepFailed(Exception):
    """A step of the cluster's start-up failed; the message names the step."""


def tool(name: str) -> str:
    path = os.environ.get(TOOLS[name])
    if not path or not os.access(path, os.X_OK):
        raise StepFailed(f"{name}: not built; run `bin/mise run e2e` (it builds it) or set {TOOLS[name]}")
    return path


def tools_missing() -> list[str]:
    return [name for name, variable in TOOLS.items() if not os.environ.get(variable)]


def wait_until(what: str, check, timeout: float = 60, interval: float = 0.25, watch=(), blame=None):
    """Polls `check` until it returns something true, and returns that. Fails when a `watch`ed
    process has exited, or after `timeout` seconds, showing what `blame` printed."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        for process in watch:
            process.check_alive()
        if time.monotonic() > deadline:
            raise StepFailed(f"{what}: not so after {timeout:.0f} s" + (f"; {blame.name} printed:\n{blame.tail()}" if blame else ""))
        time.sleep(interval)


def http_status(url: str, host: str | None = None) -> int | None:
    """The status of GET `url` (with `Host: host`), or None if nothing answers."""
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def module_dir(module: str, version: str) -> pathlib.Path:
    """The source of a Go module at a version, from the module cache (the build put it there)."""
    result = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], capture_output=True, text=True)
    if result.returncode != 0:
        raise StepFailed(f"go mod download {module}@{version}: {result.stderr.strip()}")
    return pathlib.Path(json.loads(result.stdout)["Dir"])


class Process:
    def __init__(self, name: str, command: list[str], workdir: pathlib.Path, env: dict | None = None):
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, start_new_session=True,
        )

    def tail(self, lines: int = 25) -> str:
        if not self.log.closed:
            self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def check_alive(self):
        if self.process.poll() is not None:
            raise StepFailed(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Cluster:
    """Started by `start()`; `kubectl()` and `helm()` talk to it."""

    def __init__(self, workdir: pathlib.Path):
        self.dir = workdir
        self.processes: list[Process] = []
        self.kubeconfig = workdir / "kubeconfig"
        self.timings: dict[str, float] = {}

    # Start-up, in order: store, API server, CRDs, controllers, operators.

    def start(self):
        for step in (self.start_store, self.start_api_server, self.install_crds,
                     self.start_controller_manager, self.start_spin_operator):
            began = time.monotonic()
            step()
            self.timings[step.__name__] = time.monotonic() - began

    def start_store(self):
        self.store_port, peer_port = free_port(), free_port()
        self.spawn("etcd", [
            tool("etcd"), f"--data-dir={self.dir / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{self.store_port}",
            f"--advertise-client-urls=http://127.0.0.1:{self.store_port}",
            f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-cluster=default=http://127.0.0.1:{peer_port}",
            "--unsafe-no-fsync",  # a throw-away store: durability buys nothing here
        ])
        self.wait_for("etcd accepts connections", lambda: self.port_open(self.store_port), "etcd")

    def start_api_server(self):
        self.api_port = free_port()
        certs = self.dir / "certs"
        certs.mkdir()
        run(["openssl", "genrsa", "-out", str(certs / "sa.key"), "2048"], "service account key")
        run(["openssl", "rsa", "-in", str(certs / "sa.key"), "-pubout", "-out", str(certs / "sa.pub")], "service account key")
        self.token = secrets.token_hex(16)
        (certs / "tokens.csv").write_text(f"{self.token},admin,admin,system:masters\n")
        self.spawn("kube-apiserver", [
            tool("kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{self.store_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={self.api_port}",
            f"--cert-dir={certs}",  # a self-signed serving certificate, made at start
            f"--token-auth-file={certs / 'tokens.csv'}",
            "--authorization-mode=RBAC",
            f"--service-account-issuer=https://127.0.0.1:{self.api_port}",
            f"--service-account-key-file={certs / 'sa.pub'}",
            f"--service-account-signing-key-file={certs / 'sa.key'}",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--enable-priority-and-fairness=false",
        ])
        self.kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "e2e",
            "clusters": [{"name": "e2e", "cluster": {"server": f"https://127.0.0.1:{self.api_port}", "insecure-skip-tls-verify": True}}],
            "users": [{"name": "admin", "user": {"token": self.token}}],
            "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "admin"}}],
        }))
        self.wait_for("kube-apiserver /readyz", lambda: self.kubectl("get", "--raw", "/readyz", check=False).returncode == 0,
                      "kube-apiserver", timeout=120)

    def install_crds(self):
        """The upstream CRDs: flux-operator's and spin-operator's from their modules at the built
        versions; Flux's and cert-manager's as vendored in project-tests/data/crds."""
        flux_operator = module_dir("github.com/controlplaneio-fluxcd/flux-operator", os.environ["FLUX_OPERATOR_VERSION"])
        spin_operator = module_dir("github.com/spinkube/spin-operator", os.environ["SPIN_OPERATOR_VERSION"])
        files = sorted((flux_operator / "config" / "crd" / "bases").glob("*.yaml"))
        files += sorted((spin_operator / "config" / "crd" / "bases").glob("*.yaml"))
        files += sorted((DATA / "crds" / "flux").glob("*.yaml")) + sorted((DATA / "crds" / "cert-manager").glob("*.yaml"))
        for file in files:
            self.kubectl("apply", "--server-side", "-f", str(file))
        names = [yaml.safe_load(f.read_text())["metadata"]["name"] for f in files]
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{n}" for n in names])

    def start_controller_manager(self):
        self.spawn("kube-controller-manager", [
            # Every default controller, as in any cluster (endpoints, EndpointSlices, HPA, garbage
            # collection, service account tokens signed with the API server's key...).
            tool("kube-controller-manager"), f"--kubeconfig={self.kubeconfig}",
            f"--service-account-private-key-file={self.dir / 'certs' / 'sa.key'}",
            "--leader-elect=false", "--secure-port=0", "--use-service-account-credentials=false",
        ])
        self.wait_for("the default ServiceAccount", lambda: self.kubectl(
            "get", "serviceaccount", "default", "-n", "default", check=False).returncode == 0, "kube-controller-manager")

    def start_spin_operator(self):
        health = free_port()
        self.spawn("spin-operator", [
            tool("spin-operator"), f"--kubeconfig={self.kubeconfig}", "--leader-elect=false",
            "--metrics-bind-address=0", f"--health-probe-bind-address=127.0.0.1:{health}", "--enable-webhooks=false",
        ])
        self.wait_for("spin-operator /readyz", lambda: http_status(f"http://127.0.0.1:{health}/readyz") == 200, "spin-operator")

    def reconcile_resourceset(self, name: str, namespace: str = "flux-system"):
        """One reconciliation of a ResourceSet, with flux-operator's code: the ResourceSet and
        its input providers as the API server holds them, rendered by `flux-operator build
        resourceset`, applied server-side as flux-operator applies (its field manager), and
        what an earlier reconciliation applied but this one no longer renders is deleted."""
        resourceset = self.get("resourceset", name, namespace=namespace)
        providers = [
            self.get(ref["kind"].lower(), ref["name"], namespace=namespace)
            for ref in resourceset["spec"].get("inputsFrom", [])
        ]
        tool("flux-operator")  # built, or say how to build it
        rendered = build_resourceset(resourceset, providers)
        self.kubectl("apply", "--server-side", "--field-manager=flux-operator", "--force-conflicts", "-f", "-",
                     input=yaml.safe_dump_all(rendered))
        # Garbage collection of the previous inventory, by the owner labels flux-operator sets.
        keep = {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in rendered}
        selector = f"resourceset.fluxcd.controlplane.io/name={name},resourceset.fluxcd.controlplane.io/namespace={namespace}"
        for kind in sorted({o["kind"] for o in rendered}):
            for obj in self.get(kind.lower(), namespace=None, selector=selector)["items"]:
                key = (obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"])
                if key not in keep:
                    self.kubectl("delete", kind.lower(), obj["metadata"]["name"], "-n", obj["metadata"]["namespace"])
        return rendered

    # Talking to the cluster.

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([tool("kubectl"), f"--kubeconfig={self.kubeconfig}", *args], input=input, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise StepFailed(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result

    def get(self, kind: str, name: str | None = None, namespace: str | None = None, selector: str | None = None) -> dict:
        args = ["get", kind] + ([name] if name else []) + (["-n", namespace] if namespace else ["-A"] if not name else [])
        args += ["-l", selector] if selector else []
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def helm(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([tool("helm"), f"--kubeconfig={self.kubeconfig}", *args], capture_output=True, text=True)
        if result.returncode != 0:
            raise StepFailed(f"helm {' '.join(args)}: {result.stderr.strip()}")
        return result

    def wait_for(self, what: str, ready, component: str, timeout: float = 60):
        """Waits for `ready` while every process of the cluster is up; blames `component`."""
        blame = next((p for p in self.processes if p.name == component), None)
        wait_until(what, ready, timeout, watch=self.processes, blame=blame)

    def spawn(self, name: str, command: list[str], env: dict | None = None):
        self.processes.append(Process(name, command, self.dir, env))

    @staticmethod
    def port_open(port: int) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    def stop(self):
        for process in reversed(self.processes):
            process.stop()


def run(command: list[str], step: str):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise StepFailed(f"{step}: {' '.join(command)}: {result.stderr.strip()}")
