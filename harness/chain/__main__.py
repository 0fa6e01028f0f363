"""`python -m harness.chain`: the e2e's delivery chain against the cluster of $KUBECONFIG, for a
cluster that runs what the loopback cluster runs (cert-manager, spin-operator, Flux, Traefik
serving the platform's Gateway), with the release pushed to its registry: CI's k3d job. Its
stand-in for the production issuer is self-signed, and its chart registry speaks plain HTTP.

  deliver RUNTIME --registry ADDRESS   the tenant's harness, values and HTTPRoute applied as the
      e2e applies them (harness.chain.deliver.deploy), Flux's objects reconciled and Ready; then
      only the runtime's own workload in the tenant's namespace, rolled out, the Ingress's
      certificate issued and the HTTPRoute accepted with its backend resolved
  probe [--port 8443]                  through the ingress controller on 127.0.0.1:PORT, by the
      Ingress's host and by the HTTPRoute's, over TLS checked against each certificate:
      /.healthz 200, / 200, a missing page 404, a folder without its slash 308
"""

import argparse
import base64
import os
import pathlib
import sys
import tempfile

from harness import log
from harness.chain.deliver import deploy
from harness.chain.render import harness_env
from harness.cluster_api import ClusterAPI, release_of
from harness.loopback_cluster import ingress_controller
from harness.processes import StepFailed
from harness.workspace import project_version

# Each runtime's Deployment, every workload the tenant's namespace then holds, and what must be
# gone once it runs alone.
WORKLOADS = {
    "spin": (
        "{app}-spin",
        {"deployment.apps/{app}-spin", "spinapp.core.spinkube.dev/{app}-spin"},
        ["deployment/{app}-deployment"],
    ),
    "native": (
        "{app}-deployment",
        {"deployment.apps/{app}-deployment"},
        ["spinapp/{app}-spin", "deployment/{app}-spin"],
    ),
}
# The checks of `probe`, by path: the status each way in answers.
PROBES = {"/.healthz": 200, "/": 200, "/no-such-page": 404, "/architecture": 308}


def cluster(registry: str = "") -> ClusterAPI:
    """The cluster of $KUBECONFIG; with `registry`, the release this checkout pushed there (its
    version from project-version, which only `deliver` needs)."""
    kubeconfig = pathlib.Path(os.environ.get("KUBECONFIG", pathlib.Path.home() / ".kube" / "config"))
    release = release_of(registry, project_version()) if registry else {}
    return ClusterAPI(kubeconfig, issuer={"selfSigned": {}}, release=release)


def deliver(api: ClusterAPI, runtime: str) -> None:
    env = harness_env()
    app, customer = env["APP_NAME"], env["APP_CUSTOMER"]
    log.step(f"the tenant {customer}'s harness and values, runtime {runtime}, the release from {api.release}")
    name, _, _ = deploy(api, runtime, customer, values=ingress_controller.http_route(customer))
    log.step(f"the {runtime} workload alone in namespace {name}")
    deployment, want, absent = WORKLOADS[runtime]
    deployment = deployment.format(app=app)
    # spin-operator makes the SpinApp's Deployment a moment after the SpinApp.
    api.kubectl("wait", "-n", name, f"deployment/{deployment}", "--for=create", "--timeout=120s")
    api.kubectl("rollout", "status", "-n", name, f"deployment/{deployment}", "--timeout=300s")
    for gone in absent:
        api.kubectl("wait", "-n", name, gone.format(app=app), "--for=delete", "--timeout=120s")
    found = set(api.kubectl("get", "-n", name, "deployments,spinapps", "-o", "name").stdout.split())
    if found != {w.format(app=app) for w in want}:
        raise StepFailed(f"workloads in {name}: {sorted(found)}; want only {sorted(want)}")
    log.step("the Ingress's certificate, and the HTTPRoute on the platform's Gateway")
    ingress = api.get("ingress", app, namespace=name)
    api.wait_for_certificate(ingress["spec"]["tls"][0]["secretName"], name, timeout=120)
    ingress_controller.wait_accepted(api, name, app, timeout=120)


def probe(api: ClusterAPI, port: int) -> None:
    namespace = api.get("helmrelease", namespace="flux-system")["items"][0]["spec"]["targetNamespace"]
    app = harness_env()["APP_NAME"]
    ingress = api.get("ingress", app, namespace=namespace)
    route = api.get("httproute", app, namespace=namespace)
    parent = route["spec"]["parentRefs"][0]
    gateway = api.get("gateway", parent["name"], namespace=parent["namespace"])
    # A self-signed issuer signs each certificate with its own key: each is its own CA.
    secrets = [
        (namespace, ingress["spec"]["tls"][0]["secretName"]),
        (parent["namespace"], gateway["spec"]["listeners"][0]["tls"]["certificateRefs"][0]["name"]),
    ]
    failed = []
    with tempfile.NamedTemporaryFile("w", suffix=".crt") as bundle:
        for secret_namespace, secret in secrets:
            data = api.get("secret", secret, namespace=secret_namespace)["data"]
            bundle.write(base64.b64decode(data["ca.crt"]).decode())
        bundle.flush()
        api.ingress_ports, api.ca_file = (0, port), pathlib.Path(bundle.name)
        ways = {"Ingress": ingress["spec"]["rules"][0]["host"], "HTTPRoute": route["spec"]["hostnames"][0]}
        for way, host in ways.items():
            ingress_controller.wait_served(api, host, way)
            for path, want in PROBES.items():
                got = ingress_controller.request(api, host, path)
                print(f"{way}: GET https://{host}{path}: {got} (want {want})", flush=True)
                if got != want:
                    failed.append(f"{way} {host}{path}: {got}")
    if failed:
        raise StepFailed(f"the ingress controller did not answer as the site would: {failed}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    deliver_command = commands.add_parser("deliver", help="deliver the release for a runtime and wait on it")
    deliver_command.add_argument("runtime", choices=sorted(WORKLOADS))
    deliver_command.add_argument("--registry", required=True, help="the registry as the cluster reaches it")
    probe_command = commands.add_parser("probe", help="both ways in answer as the site does")
    probe_command.add_argument(
        "--port", type=int, default=8443, help="the ingress controller's HTTPS port on 127.0.0.1"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "deliver":
            deliver(cluster(args.registry), args.runtime)
        else:
            probe(cluster(), args.port)
    except StepFailed as error:
        print(f"harness.chain {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
