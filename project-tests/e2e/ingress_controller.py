"""The loopback cluster's ingress controller: Traefik, in a pod, as a platform runs it now that
ingress-nginx is retired (Kubernetes SIG Network ended it in March 2026).

- Built from its module (scripts/lib.sh, TRAEFIK); its image is made by the project's own image
  path (scripts/push-image) and pushed to the cluster's registry.
- A Deployment in its own namespace, with the RBAC of its documentation for its Kubernetes
  Ingress NGINX provider, bound to its ServiceAccount. The pod runs as `restricted` asks
  (non-root, no capabilities, a read-only root), except for its hostPorts. It
  reaches the API server through the `kubernetes` Service, as any in-cluster client does.
- That provider serves Ingresses of class `nginx` (the IngressClass ingress-nginx installs,
  controller `k8s.io/ingress-nginx`) with their nginx annotations, unchanged. As ingress-nginx
  does, an Ingress with TLS is served on HTTPS with its certificate, and HTTP redirects there.
- Reached on 127.0.0.1 through the pod's hostPorts (the CNI portmap plugin), HTTP and HTTPS.
"""

import http.client
import os
import pathlib
import socket
import ssl

import yaml

from processes import StepFailed, module_dir, tool
from registry import push_image

NAMESPACE = "traefik"
NAME = "traefik"
# Traefik's entry points in the pod: unprivileged ports, as the pod runs as a user.
HTTP, HTTPS, PING = 8000, 8443, 9000


def start(cluster, http_port: int, https_port: int):
    """Deploys the controller, listening on 127.0.0.1:`http_port` and :`https_port`, and waits
    until it is Ready."""
    version = os.environ["TRAEFIK_VERSION"]
    image = f"{cluster.registry.address}/traefik:{version}"
    push_image(pathlib.Path(tool("traefik")), "65532:65532", HTTP, [image])
    rbac = module_dir("github.com/traefik/traefik/v3", version) / "docs/content/reference/dynamic-configuration"
    objects = [
        # Pod Security's `baseline` and `restricted` forbid hostPorts, so the namespace enforces
        # `privileged`; the pod meets `restricted` in everything else, and the API server warns
        # about anything that does not.
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": {
            "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "restricted"}}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": NAME, "namespace": NAMESPACE}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
         "spec": {"controller": "k8s.io/ingress-nginx"}},
        deployment(image, http_port, https_port),
    ]
    for obj in yaml.safe_load_all((rbac / "kubernetes-ingress-nginx-rbac.yml").read_text()):
        if obj["kind"] == "ClusterRoleBinding":
            obj["subjects"] = [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
        objects.append(obj)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(objects))
    rollout = cluster.kubectl("rollout", "status", f"deployment/{NAME}", "-n", NAMESPACE, "--timeout=120s", check=False)
    if rollout.returncode != 0:
        events = cluster.kubectl("get", "events", "-n", NAMESPACE, "--sort-by=.lastTimestamp", check=False).stdout
        raise StepFailed(f"Traefik is not Ready: {rollout.stderr.strip()}\n{events[-3000:]}")


def deployment(image: str, http_port: int, https_port: int) -> dict:
    ports = [{"name": "web", "containerPort": HTTP, "hostPort": http_port, "hostIP": "127.0.0.1"},
             {"name": "websecure", "containerPort": HTTPS, "hostPort": https_port, "hostIP": "127.0.0.1"},
             {"name": "ping", "containerPort": PING}]
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": NAME}},
                "spec": {
                    "serviceAccountName": NAME,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": NAME, "image": image,
                        "args": [f"--entryPoints.web.address=:{HTTP}", f"--entryPoints.websecure.address=:{HTTPS}",
                                 "--entryPoints.websecure.http.tls=true",
                                 f"--entryPoints.ping.address=:{PING}", "--ping.entryPoint=ping",
                                 "--providers.kubernetesIngressNGINX=true", "--log.level=INFO"],
                        "ports": ports,
                        "readinessProbe": {"httpGet": {"path": "/ping", "port": PING}, "periodSeconds": 2},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}},
                    }],
                },
            },
        },
    }


class HTTPSTo127(http.client.HTTPSConnection):
    """HTTPS to `host` (its SNI, its certificate's name, its Host header) on 127.0.0.1:`port`,
    where the controller listens, as if DNS named loopback."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def https(cluster, host: str) -> HTTPSTo127:
    """A connection to `host` through the controller, trusting the cluster's CA only."""
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    return HTTPSTo127(host, cluster.ingress_ports[1], context=context, timeout=10)


def request(cluster, host: str, path: str, method: str = "GET", body: bytes | None = None) -> int:
    """The status of one request to `host` through the controller, on a connection of its own."""
    connection = https(cluster, host)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def serving(cluster, namespace: str, app: str) -> str:
    """Waits until the controller serves the app's Ingress over HTTPS, with the certificate
    cert-manager issued for it; returns the Ingress's host."""
    ingress = cluster.get("ingress", app, namespace=namespace)
    host = ingress["spec"]["rules"][0]["host"]
    (tls,) = ingress["spec"]["tls"]
    cluster.wait_for_certificate(tls["secretName"], namespace, timeout=90)

    def served() -> bool:
        try:
            return request(cluster, host, "/.healthz") == 200
        except OSError:
            return False

    cluster.wait_for(f"https://{host}/ through the ingress controller", served, "kubelet", timeout=60)
    return host
