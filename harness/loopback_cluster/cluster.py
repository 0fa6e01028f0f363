"""A Kubernetes control plane on loopback, from real parts, for the end-to-end test:

- etcd as the store, kube-apiserver (admission as in any cluster: PodSecurity,
  ServiceAccount, RuntimeClass, NamespaceLifecycle, ...), kube-controller-manager with its
  default controllers, kube-scheduler;
- an OCI registry on loopback (registry.py) and one node (node.py): containerd, runc, the CNI
  bridge, the kubelet and kube-proxy, so pods are scheduled, pulled, run and probed, and
  Services route to them;
- cert-manager (its controller and cainjector), which issues spin-operator's webhook certificate
  and the Ingresses' certificates from the cluster's own CA, and injects CAs into the webhook
  configurations;
- spin-operator with its admission webhooks on, as its chart installs it, reconciling SpinApps
  into Deployments;
- Traefik, the ingress controller, in a pod (ingress_controller.py);
- Flux (flux.py): flux-operator's controller, source-controller and helm-controller, which
  reconcile the ResourceSet into OCIRepositories and HelmReleases and install the chart.

Each binary is built from its module by scripts/lib.sh (ensure_cluster_tools), which exports
their paths; `mise run e2e` sets them. Every step that fails says which step and what the
component printed.
"""

import base64
import os
import pathlib
import secrets
import socket
import subprocess
import time

import yaml

from harness.cluster_api import ClusterAPI, release_of
from harness.loopback_cluster import ingress_controller
from harness.loopback_cluster.flux import Flux
from harness.loopback_cluster.node import POD_GATEWAY, Node
from harness.loopback_cluster.registry import Registry
from harness.ports import free_port
from harness.processes import Process, StepFailed, http_status, run, tool, wait_until
from harness.signing import SigningKey
from harness.tools import module_source
from harness.workspace import ROOT, project_version

# The Secret (in cert-manager's namespace) with the cluster's CA.
LOOPBACK_CA = "loopback-ca"


def new_ca(certs: pathlib.Path, name: str) -> list[str]:
    """openssl's command for a CA called `name`, valid for two days: its key and certificate in
    `certs` (`name`.key, `name`.crt)."""
    return ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", str(certs / f"{name}.key"), "-out", str(certs / f"{name}.crt")]  # fmt: skip


class Cluster(ClusterAPI):
    """Started by `start()`; `kubectl()` talks to it. Its ClusterIssuers sign with its own CA."""

    def __init__(self, workdir: pathlib.Path, ingress_ports: tuple[int, int] | None = None):
        super().__init__(workdir / "kubeconfig", issuer={"ca": {"secretName": LOOPBACK_CA}})
        self.dir = workdir
        # Where the ingress controller listens on 127.0.0.1: HTTP and HTTPS.
        self.ingress_ports = ingress_ports or (free_port(), free_port())
        self.processes: list[Process] = []
        self.timings: dict[str, float] = {}
        self.registry = Registry(workdir)
        self.node: Node | None = None
        self.leftovers: list[str] = []
        self.signing_key: SigningKey | None = None

    # Start-up, in order: store, the node's network, API server, CRDs, controllers, registry,
    # node, operators, the ingress controller, Flux.

    def start(self):
        for step in (
            self.start_store,
            self.make_network,
            self.start_api_server,
            self.install_crds,
            self.start_controller_manager,
            self.start_scheduler,
            self.start_registry,
            self.start_node,
            self.start_metrics_server,
            self.start_cert_manager,
            self.start_spin_operator,
            self.start_ingress_controller,
            self.start_flux,
        ):
            began = time.monotonic()
            step()
            self.timings[step.__name__] = time.monotonic() - began

    def start_store(self):
        self.store_port, peer_port = free_port(), free_port()
        self.spawn(
            "etcd",
            [
                tool("etcd"),
                f"--data-dir={self.dir / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{self.store_port}",
                f"--advertise-client-urls=http://127.0.0.1:{self.store_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-cluster=default=http://127.0.0.1:{peer_port}",
                "--unsafe-no-fsync",  # a throw-away store: durability buys nothing here
            ],
        )
        self.wait_for("etcd accepts connections", lambda: self.port_open(self.store_port), "etcd")

    def make_network(self):
        self.node = Node(self.dir, self.kubeconfig)
        self.node.make_network()

    def start_api_server(self):
        """On the node's address, not loopback: pods (the ingress controller) reach it there
        through the `kubernetes` Service, and the host's clients too."""
        self.api_port = free_port()
        certs = self.dir / "certs"
        certs.mkdir()
        run(["openssl", "genrsa", "-out", str(certs / "sa.key"), "2048"], "service account key")
        run(
            ["openssl", "rsa", "-in", str(certs / "sa.key"), "-pubout", "-out", str(certs / "sa.pub")],
            "service account key",
        )
        self.token = secrets.token_hex(16)
        (certs / "tokens.csv").write_text(f"{self.token},admin,admin,system:masters\n")
        # The aggregation layer's front proxy (metrics-server's API): a CA, and the client
        # certificate the API server presents when it forwards a request, as kubeadm makes them.
        front_proxy = [
            new_ca(certs, "front-proxy-ca"),
            [
                "openssl",
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=front-proxy-client",
                "-keyout",
                str(certs / "front-proxy-client.key"),
                "-out",
                str(certs / "front-proxy-client.csr"),
            ],
            [
                "openssl",
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                str(certs / "front-proxy-client.csr"),
                "-CA",
                str(certs / "front-proxy-ca.crt"),
                "-CAkey",
                str(certs / "front-proxy-ca.key"),
                "-CAcreateserial",
                "-out",
                str(certs / "front-proxy-client.crt"),
            ],
        ]
        for command in front_proxy:
            run(command, "the front proxy's certificates")
        self.spawn(
            "kube-apiserver",
            [
                tool("kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.store_port}",
                f"--bind-address={POD_GATEWAY}",
                f"--advertise-address={POD_GATEWAY}",
                f"--secure-port={self.api_port}",
                f"--cert-dir={certs}",  # a self-signed serving certificate, made at start
                f"--token-auth-file={certs / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                f"--service-account-issuer=https://{POD_GATEWAY}:{self.api_port}",
                f"--service-account-key-file={certs / 'sa.pub'}",
                f"--service-account-signing-key-file={certs / 'sa.key'}",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--enable-priority-and-fairness=false",
                # The kubelet by its address, never its name: the VM's resolver is off the machine.
                "--kubelet-preferred-address-types=InternalIP",
                f"--requestheader-client-ca-file={certs / 'front-proxy-ca.crt'}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={certs / 'front-proxy-client.crt'}",
                f"--proxy-client-key-file={certs / 'front-proxy-client.key'}",
                # Aggregated APIs by their endpoints' addresses, not through a ClusterIP.
                "--enable-aggregator-routing=true",
            ],
        )
        self.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": "e2e",
                    "clusters": [
                        {
                            "name": "e2e",
                            "cluster": {
                                "server": f"https://{POD_GATEWAY}:{self.api_port}",
                                "insecure-skip-tls-verify": True,
                            },
                        }
                    ],
                    "users": [{"name": "admin", "user": {"token": self.token}}],
                    "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "admin"}}],
                }
            )
        )
        self.wait_for(
            "kube-apiserver /readyz",
            lambda: self.kubectl("get", "--raw", "/readyz", check=False).returncode == 0,
            "kube-apiserver",
            timeout=120,
        )

    def install_crds(self):
        """The upstream CRDs from their modules at the built versions: flux-operator's,
        source-controller's, helm-controller's and spin-operator's (config/crd/bases),
        cert-manager's (deploy/crds), and Gateway API's standard channel (config/crd/standard,
        with its ValidatingAdmissionPolicy against downgrades). The cluster is new: each is
        created."""
        crds = [
            ("flux-operator", "config/crd/bases"),
            ("source-controller", "config/crd/bases"),
            ("helm-controller", "config/crd/bases"),
            ("spin-operator", "config/crd/bases"),
            ("cert-manager", "deploy/crds"),
            ("gateway-api", "config/crd/standard"),
        ]
        files = [f for tool_, folder in crds for f in sorted((module_source(tool_) / folder).glob("*.yaml"))]
        for file in files:
            self.kubectl("create", "-f", str(file))
        names = [
            o["metadata"]["name"]
            for f in files
            for o in yaml.safe_load_all(f.read_text())
            if o and o["kind"] == "CustomResourceDefinition"
        ]
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{n}" for n in names])

    def start_controller_manager(self):
        self.spawn(
            "kube-controller-manager",
            [
                # Every default controller, as in any cluster (endpoints, EndpointSlices, HPA, garbage
                # collection, service account tokens signed with the API server's key...).
                tool("kube-controller-manager"),
                f"--kubeconfig={self.kubeconfig}",
                f"--service-account-private-key-file={self.dir / 'certs' / 'sa.key'}",
                # Published to every namespace as kube-root-ca.crt, which service account token
                # volumes mount.
                f"--root-ca-file={self.dir / 'certs' / 'apiserver.crt'}",
                "--leader-elect=false",
                "--secure-port=0",
                "--use-service-account-credentials=false",
                # Its FlexVolume prober makes this folder (by default under /usr/libexec on the host)
                # and makes it again whenever it is gone, until the process stops.
                f"--flex-volume-plugin-dir={self.dir / 'flex-volume-plugins'}",
            ],
        )
        self.wait_for(
            "the default ServiceAccount",
            lambda: self.kubectl("get", "serviceaccount", "default", "-n", "default", check=False).returncode == 0,
            "kube-controller-manager",
        )

    def start_scheduler(self):
        self.spawn(
            "kube-scheduler",
            [tool("kube-scheduler"), f"--kubeconfig={self.kubeconfig}", "--leader-elect=false", "--secure-port=0"],
        )

    def start_registry(self):
        self.registry.start(self.processes)
        self.pause_image = self.registry.push_pause_image()

    def start_node(self):
        self.node.start(self.processes, self.pause_image, self.registry.address)

    def start_metrics_server(self):
        """metrics-server, reading the kubelet's resource metrics, behind the API server's
        aggregation layer as metrics.k8s.io: the source of the HPA's CPU figures. It runs on
        the host at the node's address, which a selector-less Service's endpoints name."""
        port = free_port()
        self.spawn(
            "metrics-server",
            [
                tool("metrics-server"),
                f"--kubeconfig={self.kubeconfig}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                f"--bind-address={POD_GATEWAY}",
                f"--secure-port={port}",
                f"--cert-dir={self.dir / 'metrics-server'}",
                # The kubelet's serving certificate is self-signed (no cluster CA signs it here).
                "--kubelet-insecure-tls",
                "--kubelet-preferred-address-types=InternalIP",
                "--kubelet-use-node-status-port",
                "--metric-resolution=10s",
                "--kubelet-request-timeout=5s",
            ],
        )
        self.kubectl(
            "apply",
            "-f",
            "-",
            input=yaml.safe_dump_all(
                [
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "metadata": {"name": "metrics-server", "namespace": "kube-system"},
                        "spec": {"ports": [{"name": "https", "port": 443, "targetPort": port}]},
                    },
                    {
                        "apiVersion": "discovery.k8s.io/v1",
                        "kind": "EndpointSlice",
                        "metadata": {
                            "name": "metrics-server",
                            "namespace": "kube-system",
                            "labels": {"kubernetes.io/service-name": "metrics-server"},
                        },
                        "addressType": "IPv4",
                        "endpoints": [{"addresses": [POD_GATEWAY]}],
                        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
                    },
                    {
                        "apiVersion": "apiregistration.k8s.io/v1",
                        "kind": "APIService",
                        "metadata": {"name": "v1beta1.metrics.k8s.io"},
                        "spec": {
                            "service": {"name": "metrics-server", "namespace": "kube-system", "port": 443},
                            "group": "metrics.k8s.io",
                            "version": "v1beta1",
                            "insecureSkipTLSVerify": True,
                            "groupPriorityMinimum": 100,
                            "versionPriority": 100,
                        },
                    },
                ]
            ),
        )
        self.wait_for(
            "metrics.k8s.io available",
            lambda: (
                self.kubectl(
                    "get",
                    "apiservice",
                    "v1beta1.metrics.k8s.io",
                    "-o",
                    "jsonpath={.status.conditions[?(@.type=='Available')].status}",
                    check=False,
                ).stdout
                == "True"
            ),
            "metrics-server",
        )

    def start_cert_manager(self):
        """cert-manager's controller and cainjector, on the host like the cluster's other
        controllers; ClusterIssuers keep their secrets in `cert-manager`, as its chart sets. No
        ACME server is reachable from here: the cluster's own CA (`ca_file`, in the Secret
        LOOPBACK_CA) is what its ClusterIssuers sign with (harness.chain.deliver)."""
        self.kubectl("create", "namespace", "cert-manager")
        certs = self.dir / "certs"
        self.ca_file = certs / "loopback-ca.crt"
        run(new_ca(certs, "loopback-ca"), "the cluster's CA")
        self.kubectl(
            "create",
            "secret",
            "tls",
            LOOPBACK_CA,
            "-n",
            "cert-manager",
            f"--cert={self.ca_file}",
            f"--key={certs / 'loopback-ca.key'}",
        )
        # The same CA as a ClusterIssuer of its own, for the platform's certificates (the Gateway's).
        self.kubectl(
            "apply",
            "-f",
            "-",
            input=yaml.safe_dump(
                {
                    "apiVersion": "cert-manager.io/v1",
                    "kind": "ClusterIssuer",
                    "metadata": {"name": LOOPBACK_CA},
                    "spec": {"ca": {"secretName": LOOPBACK_CA}},
                }
            ),
        )
        self.spawn(
            "cert-manager-controller",
            [
                tool("cert-manager"),
                "controller",
                f"--kubeconfig={self.kubeconfig}",
                "--cluster-resource-namespace=cert-manager",
            ],
        )
        self.spawn("cert-manager-cainjector", [tool("cert-manager"), "cainjector", f"--kubeconfig={self.kubeconfig}"])

    def start_spin_operator(self):
        """spin-operator with its admission webhooks on, from its chart (`helm template` of the
        module's charts/spin-operator): the chart's Issuer, Certificate, webhook Service and
        webhook configurations are applied as they render. cert-manager issues the serving
        certificate and injects its CA into the configurations; the operator runs on the host,
        where the Service's endpoints name the node's address and the chart's target port
        (9443, controller-runtime's default), and serves the certificate from the folder the
        chart mounts it at (under TMPDIR, controller-runtime's default)."""
        namespace = "spin-operator"
        chart = module_source("spin-operator") / "charts" / "spin-operator"
        rendered = subprocess.run(
            [tool("helm"), "template", "spin-operator", str(chart), f"--namespace={namespace}"],
            capture_output=True,
            text=True,
        )
        if rendered.returncode != 0:
            raise StepFailed(f"helm template {chart}: {rendered.stderr.strip()}")
        webhook_kinds = {
            "Issuer",
            "Certificate",
            "Service",
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        }
        objects = [
            o
            for o in yaml.safe_load_all(rendered.stdout)
            if o
            and o["kind"] in webhook_kinds
            and (o["kind"] != "Service" or o["metadata"]["name"].endswith("-webhook-service"))
        ]
        (service,) = [o for o in objects if o["kind"] == "Service"]
        del service["spec"]["selector"]  # its endpoints are the host's, below
        (port,) = service["spec"]["ports"]
        objects.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": service["metadata"]["name"],
                    "labels": {"kubernetes.io/service-name": service["metadata"]["name"]},
                },
                "addressType": "IPv4",
                "endpoints": [{"addresses": [POD_GATEWAY]}],
                "ports": [{"port": port["targetPort"], "protocol": "TCP"}],
            }
        )
        self.kubectl("create", "namespace", namespace)
        self.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump_all(objects))
        (certificate,) = [o for o in objects if o["kind"] == "Certificate"]
        self.wait_for_certificate(certificate["metadata"]["name"], namespace)
        configurations = [o for o in objects if o["kind"].endswith("WebhookConfiguration")]

        def injected() -> bool:
            return all(
                w["clientConfig"].get("caBundle")
                for c in configurations
                for w in self.get(c["kind"].lower(), c["metadata"]["name"])["webhooks"]
            )

        self.wait_for("cert-manager: the webhook configurations carry the CA", injected, "cert-manager-cainjector")
        secret = self.get("secret", certificate["spec"]["secretName"], namespace=namespace)
        tmp = self.dir / "spin-operator-tmp"
        certs = tmp / "k8s-webhook-server" / "serving-certs"
        certs.mkdir(parents=True)
        for key in ("tls.crt", "tls.key"):
            (certs / key).write_bytes(base64.b64decode(secret["data"][key]))
        health = free_port()
        self.spawn(
            "spin-operator",
            [
                tool("spin-operator"),
                f"--kubeconfig={self.kubeconfig}",
                "--leader-elect=false",
                "--metrics-bind-address=0",
                f"--health-probe-bind-address=127.0.0.1:{health}",
                "--enable-webhooks=true",
            ],
            env={"TMPDIR": str(tmp)},
        )
        self.wait_for(
            "spin-operator /readyz", lambda: http_status(f"http://127.0.0.1:{health}/readyz") == 200, "spin-operator"
        )
        # The API server calls the webhooks: a SpinApp whose executor does not exist is refused.
        probe = yaml.safe_dump(
            {
                "apiVersion": "core.spinkube.dev/v1alpha1",
                "kind": "SpinApp",
                "metadata": {"name": "webhook-check"},
                "spec": {"image": "example.invalid/app:1", "replicas": 1, "executor": "absent"},
            }
        )

        def refused():
            created = self.kubectl("create", "--dry-run=server", "-n", namespace, "-f", "-", input=probe, check=False)
            return "executor does not exist in namespace" in created.stderr

        self.wait_for("spin-operator's webhooks answer the API server", refused, "spin-operator")

    def start_ingress_controller(self):
        ingress_controller.start(self, *self.ingress_ports, issuer=LOOPBACK_CA)

    def start_flux(self):
        Flux(self).start()

    def publish(self):
        """`mise-tasks/push` into the cluster's registry, as a release publishes: the Spin
        artifact, the native image and the chart, each signed with the cluster's release
        signing key (`signing_key`), with the SBOMs attested."""
        version = project_version()
        self.signing_key = SigningKey(self.dir / "signing")
        result = subprocess.run(
            [str(ROOT / "mise-tasks" / "push")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={
                **os.environ,
                **self.signing_key.env(),
                "IMAGE_REGISTRY": self.registry.address,
                "REGISTRY_PLAIN_HTTP": "true",
            },
        )
        if result.returncode != 0:
            raise StepFailed(f"mise-tasks/push: {result.stderr.strip()}")
        self.release = release_of(self.registry.address, version)
        # The node pulls the release's repositories only signed by the release key, as a
        # platform's admission would have it (image-verifier/).
        for repository in ("hello-world", "hello-world-spin"):
            self.node.require_signatures(f"{self.registry.address}/{repository}", self.signing_key.public)

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
        """Stops every process; what the node could not put back is in `leftovers`."""
        if self.node:
            self.leftovers = self.node.stop()
        for process in reversed(self.processes):
            process.stop()
