"""The loopback cluster's ingress controller: Traefik, in a pod, as a platform runs it now that
ingress-nginx is retired (Kubernetes SIG Network ended it in March 2026).

- Built from its module (scripts/lib.sh, TRAEFIK); its image is made by the project's own image
  path (scripts/push-image) and pushed to the cluster's registry.
- A Deployment in its own namespace, with the RBAC of its documentation for its Kubernetes
  Ingress NGINX provider, bound to its ServiceAccount. The pod runs as `restricted` asks
  (non-root, no capabilities, a read-only root), except for its hostPorts where it has them. It
  reaches the API server through the `kubernetes` Service, as any in-cluster client does.
- That provider serves Ingresses of class `nginx` (the IngressClass ingress-nginx installs,
  controller `k8s.io/ingress-nginx`) with their nginx annotations, unchanged. As ingress-nginx
  does, an Ingress with TLS is served on HTTPS with its certificate, and HTTP redirects there.
- Its Gateway API provider serves the platform's Gateway (GATEWAY, class `traefik`): one HTTPS
  listener for every host under the app's zone (`*.<app>.<cluster fqdn>`), with a wildcard
  certificate from the cluster's CA, that admits HTTPRoutes from every namespace. Traefik
  binds a listener to the entry point of its port.
- Reached on 127.0.0.1 through the pod's hostPorts (the CNI portmap plugin), HTTP and HTTPS;
  or, in a cluster with a load balancer (CI's k3d job), through a LoadBalancer Service on 80
  and 443. There, `python3 ingress_controller.py controller` prints the same objects with the
  upstream image, and `route-values` the chart values of a tenant's HTTPRoute.
"""

import argparse
import functools
import http.client
import pathlib
import socket
import ssl
import sys

import yaml

from harness.chain.render import harness_env
from harness.loopback_cluster.registry import push_image
from harness.processes import StepFailed, tool
from harness.tools import module_source, version

NAMESPACE = "traefik"
NAME = "traefik"
# Traefik's entry points in the pod: unprivileged ports, as the pod runs as a user.
HTTP, HTTPS, PING = 8000, 8443, 9000
# The platform's Gateway and its listener, as an HTTPRoute's parentRef names them.
GATEWAY = {"name": "platform", "namespace": NAMESPACE, "sectionName": "websecure"}


def start(cluster, http_port: int, https_port: int, issuer: str):
    """Deploys the controller, listening on 127.0.0.1:`http_port` and :`https_port`, with the
    Gateway's certificate from the ClusterIssuer `issuer`, and waits until it is Ready."""
    image = f"{cluster.registry.address}/traefik:{version('traefik')}"
    push_image(pathlib.Path(tool("traefik")), "65532:65532", HTTP, [image])
    manifest = objects(image, issuer, host_ports=(http_port, https_port))
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifest))
    rollout = cluster.kubectl("rollout", "status", f"deployment/{NAME}", "-n", NAMESPACE, "--timeout=120s", check=False)
    if rollout.returncode != 0:
        events = cluster.kubectl("get", "events", "-n", NAMESPACE, "--sort-by=.lastTimestamp", check=False).stdout
        raise StepFailed(f"Traefik is not Ready: {rollout.stderr.strip()}\n{events[-3000:]}")
    cluster.wait_for_certificate(GATEWAY["name"], NAMESPACE, timeout=90)
    cluster.wait_for(
        f"the Gateway {NAMESPACE}/{GATEWAY['name']} Programmed",
        lambda: condition(cluster, "gateway", GATEWAY["name"], NAMESPACE, "Programmed"),
        "kubelet",
        timeout=60,
    )


def objects(image: str, issuer: str, host_ports: tuple[int, int] | None = None) -> list[dict]:
    """Traefik at its pinned version (its RBAC from its module) running `image`, and the platform's
    Gateway. With `host_ports` (HTTP, HTTPS) the pod listens on 127.0.0.1 there; without, a
    LoadBalancer Service takes 80 and 443 to it."""
    # Pod Security's `baseline` and `restricted` forbid hostPorts, so a namespace with them
    # enforces `privileged`; the pod meets `restricted` in everything else, and the API server
    # warns about anything that does not.
    enforce = "privileged" if host_ports else "restricted"
    manifest = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": NAMESPACE,
                "labels": {
                    "pod-security.kubernetes.io/enforce": enforce,
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": NAME, "namespace": NAMESPACE}},
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {"name": "nginx"},
            "spec": {"controller": "k8s.io/ingress-nginx"},
        },
        deployment(image, host_ports),
        *([] if host_ports else [load_balancer()]),
        *gateway(issuer),
    ]
    rbac = module_source("traefik") / "docs/content/reference/dynamic-configuration"
    for file in ("kubernetes-ingress-nginx-rbac.yml", "kubernetes-gateway-rbac.yml"):
        for obj in yaml.safe_load_all((rbac / file).read_text()):
            if obj["kind"] == "ClusterRoleBinding":
                obj["subjects"] = [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
            manifest.append(obj)
    return manifest


def zone() -> str:
    """The DNS zone of the app's hosts, `<app>.<cluster fqdn>`, as the harness names them."""
    env = harness_env()
    return f"{env['APP_NAME']}.{env['CLUSTER_FQDN']}"


def gateway(issuer: str) -> list[dict]:
    """The GatewayClass, the Gateway, and the wildcard certificate of its HTTPS listener,
    signed by the ClusterIssuer `issuer`."""
    hosts = f"*.{zone()}"
    return [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": {"name": "traefik"},
            "spec": {"controllerName": "traefik.io/gateway-controller"},
        },
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": GATEWAY["name"], "namespace": NAMESPACE},
            "spec": {
                "secretName": f"{GATEWAY['name']}-tls",
                "dnsNames": [hosts],
                "issuerRef": {"kind": "ClusterIssuer", "name": issuer},
            },
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": GATEWAY["name"], "namespace": NAMESPACE},
            "spec": {
                "gatewayClassName": "traefik",
                "listeners": [
                    {
                        "name": GATEWAY["sectionName"],
                        "protocol": "HTTPS",
                        "port": HTTPS,
                        "hostname": hosts,
                        "tls": {"mode": "Terminate", "certificateRefs": [{"name": f"{GATEWAY['name']}-tls"}]},
                        "allowedRoutes": {"namespaces": {"from": "All"}},
                    }
                ],
            },
        },
    ]


def condition(cluster, kind: str, name: str, namespace: str, type_: str) -> bool:
    """True when the object's (or, for a route, every parent's) condition `type_` is True."""
    status = cluster.get(kind, name, namespace=namespace).get("status", {})
    holders = status.get("parents") or [status]
    return all(any(c["type"] == type_ and c["status"] == "True" for c in h.get("conditions", [])) for h in holders)


def deployment(image: str, host_ports: tuple[int, int] | None) -> dict:
    ports = [
        {"name": "web", "containerPort": HTTP},
        {"name": "websecure", "containerPort": HTTPS},
        {"name": "ping", "containerPort": PING},
    ]
    for port, host_port in zip(ports, host_ports or (), strict=False):
        port.update(hostPort=host_port, hostIP="127.0.0.1")
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": NAME}},
                "spec": {
                    "serviceAccountName": NAME,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65532,
                        "runAsGroup": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": NAME,
                            "image": image,
                            "args": [
                                f"--entryPoints.web.address=:{HTTP}",
                                f"--entryPoints.websecure.address=:{HTTPS}",
                                "--entryPoints.websecure.http.tls=true",
                                f"--entryPoints.ping.address=:{PING}",
                                "--ping.entryPoint=ping",
                                "--providers.kubernetesIngressNGINX=true",
                                "--providers.kubernetesGateway=true",
                                # The access log of the answers that are Traefik's failures or
                                # the pods' (the pod's log, under the node's pod-logs).
                                "--log.level=INFO",
                                "--accesslog=true",
                                "--accesslog.filters.statuscodes=500-599",
                            ],
                            "ports": ports,
                            "readinessProbe": {"httpGet": {"path": "/ping", "port": PING}, "periodSeconds": 2},
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                },
            },
        },
    }


def load_balancer() -> dict:
    """The Service of a cluster with a load balancer: 80 and 443, as the platform's DNS names them."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app.kubernetes.io/name": NAME},
            "ports": [
                {"name": "web", "port": 80, "targetPort": "web"},
                {"name": "websecure", "port": 443, "targetPort": "websecure"},
            ],
        },
    }


class HTTPSTo127(http.client.HTTPSConnection):
    """HTTPS to `host` (its SNI, its certificate's name, its Host header) on 127.0.0.1:`port`,
    where the controller listens, as if DNS named loopback."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@functools.cache
def trusting(ca_file: pathlib.Path) -> ssl.SSLContext:
    """A TLS context that trusts `ca_file` only, made once: the load clients reconnect often."""
    return ssl.create_default_context(cafile=str(ca_file))


def https(cluster, host: str) -> HTTPSTo127:
    """A connection to `host` through the controller, trusting the cluster's CA only."""
    return HTTPSTo127(host, cluster.ingress_ports[1], context=trusting(cluster.ca_file), timeout=10)


def request(cluster, host: str, path: str) -> int:
    """The status of a GET of `path` from `host` through the controller, on a connection of its
    own."""
    connection = https(cluster, host)
    try:
        connection.request("GET", path)
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
    wait_served(cluster, host, "the ingress controller")
    return host


def wait_served(cluster, host: str, way: str):
    """Waits until `https://host/.healthz` answers 200 through the controller."""

    def served() -> bool:
        try:
            return request(cluster, host, "/.healthz") == 200
        except OSError:
            return False

    cluster.wait_for(f"https://{host}/ through {way}", served, "kubelet", timeout=60)


def route_host(customer: str) -> str:
    """The host a tenant's HTTPRoute serves in the e2e: under the Gateway's wildcard, and
    another than its Ingress's, so that each way in is reached on its own."""
    return f"{customer}-gateway.{zone()}"


def http_route(customer: str) -> dict:
    """The chart values that attach the tenant's HTTPRoute to the Gateway."""
    return {"httpRoute": {"enabled": True, "parentRefs": [GATEWAY], "hostnames": [route_host(customer)]}}


def routed(cluster, namespace: str, app: str) -> str:
    """Waits until the Gateway serves the app's HTTPRoute over HTTPS (the route Accepted and
    its backend resolved); returns the route's host."""
    route = cluster.get("httproute", app, namespace=namespace)
    (host,) = route["spec"]["hostnames"]
    wait_accepted(cluster, namespace, app, timeout=60)
    wait_served(cluster, host, "the Gateway")
    return host


def wait_accepted(cluster, namespace: str, app: str, timeout: float):
    """Waits until the Gateway accepted the app's HTTPRoute and resolved its backend."""
    for type_ in ("Accepted", "ResolvedRefs"):
        cluster.wait_for(
            f"the HTTPRoute {namespace}/{app} {type_}",
            lambda type_=type_: condition(cluster, "httproute", app, namespace, type_),
            "kubelet",
            timeout=timeout,
        )


def main(argv: list[str]) -> None:
    """The objects for a cluster with a load balancer (CI's k3d job), as YAML on stdout."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    controller = commands.add_parser("controller", help="Traefik, its RBAC, a LoadBalancer Service and the Gateway")
    controller.add_argument(
        "--image", required=True, help="Traefik's image, of the pinned version (tools/versions.toml)"
    )
    controller.add_argument("--issuer", required=True, help="the ClusterIssuer of the Gateway's certificate")
    route = commands.add_parser("route-values", help="the chart values of a tenant's HTTPRoute")
    route.add_argument("customer")
    args = parser.parse_args(argv)
    if args.command == "controller":
        print(yaml.safe_dump_all(objects(args.image, args.issuer)), end="")
    else:
        print(yaml.safe_dump(http_route(args.customer)), end="")


if __name__ == "__main__":
    main(sys.argv[1:])
