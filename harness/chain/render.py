"""The deployment chain, offline, step by step as the cluster runs it:

1. `kubectl kustomize deployment/test/`: the harness, with the production ResourceSet from deployment/base;
2. the ${VARS} filled in, as Flux's postBuild substitution fills them (defaults: deployment/test/inputs.toml);
3. the ResourceSet rendered by flux-operator's own code: `flux-operator build resourceset`
   with the Static providers, which combines their inputs (Permute) and renders the templates
   exactly as the controller does (the CLI is built from flux-operator's module, scripts/lib.sh);
4. each HelmRelease's values rendered into the chart with Helm (`helm template`);
5. the Certificate cert-manager's ingress-shim derives from each annotated Ingress.
"""

import copy
import os
import re
import subprocess
import tempfile
import tomllib

import yaml

from harness.kube import load_all
from harness.workspace import ROOT

HARNESS = ROOT / "deployment" / "test"
CHART = ROOT / "charts" / "hello-world"
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class RenderError(Exception):
    """A step of the chain refused its input; the message says which step and why."""


def harness_env(**overrides: str) -> dict[str, str]:
    """The harness inputs: deployment/test/inputs.toml's [env], overridden by the environment, then by
    `overrides`."""
    defaults = tomllib.loads((HARNESS / "inputs.toml").read_text())["env"]
    env = {key: os.environ.get(key, str(value)) for key, value in defaults.items()}
    env.update(overrides)
    return env


def kustomize(path=HARNESS) -> str:
    result = subprocess.run([kubectl(), "kustomize", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {path}: {result.stderr.strip()}")
    return result.stdout


def substitute(text: str, env: dict[str, str]) -> str:
    """Flux postBuild substitution of ${VAR}; an unset variable is an error here (Flux would
    leave it empty, which only moves the failure further down the chain)."""

    def value(match):
        name = match.group(1)
        if name not in env:
            raise RenderError(f"${{{name}}} is not set (add it to deployment/test/inputs.toml or the environment)")
        return env[name]

    return VARIABLE.sub(value, text)


def harness_objects(env: dict[str, str] | None = None) -> list[dict]:
    return load_all(substitute(kustomize(), env if env is not None else harness_env()))


def kubectl() -> str:
    """The kubectl of the cluster's version that the tasks build (scripts/lib.sh, ensure_kubectl),
    never the one on PATH: Debian's 1.20 cannot read test/ (`'../deployment/base' must be a file`)."""
    path = os.environ.get("KUBECTL")
    if not path:
        raise RenderError("KUBECTL is not set: run the tests with `bin/mise run test:deploy`, which builds kubectl")
    return path


def flux_operator() -> str:
    return os.environ.get("FLUX_OPERATOR", "flux-operator")


def render_resourceset(resourceset: dict, objects: list[dict]) -> list[dict]:
    """The objects flux-operator would apply for `resourceset`, given the harness `objects`
    (which hold its input providers)."""
    namespace = resourceset["metadata"].get("namespace")
    providers = []
    for reference in resourceset["spec"].get("inputsFrom", []):
        matches = [
            o
            for o in objects
            if o["kind"] == reference["kind"]
            and o["metadata"]["name"] == reference["name"]
            and o["metadata"].get("namespace") == namespace
        ]
        if not matches:
            raise RenderError(
                f"ResourceSet {resourceset['metadata']['name']}: no {reference['kind']} {reference['name']} in {namespace}"
            )
        providers.append(matches[0])
    return [
        obj
        for obj in build_resourceset(resourceset, providers)
        if (obj["metadata"].get("annotations") or {}).get("fluxcd.controlplane.io/reconcile") != "disabled"
    ]


def build_resourceset(resourceset: dict, providers: list[dict]) -> list[dict]:
    """`flux-operator build resourceset` of `resourceset` with its Static `providers`: the
    objects the controller's own code renders, every one of them."""
    with tempfile.TemporaryDirectory() as tmp:
        resourceset_file, providers_file = f"{tmp}/resourceset.yaml", f"{tmp}/providers.yaml"
        with open(resourceset_file, "w") as file:
            yaml.safe_dump(resourceset, file)
        with open(providers_file, "w") as file:
            yaml.safe_dump_all(providers, file)
        command = [flux_operator(), "build", "resourceset", "-f", resourceset_file]
        if providers:
            command += ["--inputs-from-provider", providers_file]
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RenderError(
            f"ResourceSet {resourceset['metadata']['name']}: flux-operator build resourceset: {result.stderr.strip()}"
        )
    return load_all(result.stdout)


def seed_shaped(harness: list[dict]) -> list[dict]:
    """The harness with the platform's providers as they are: none of the inputs this project
    added (runtime, replicas, env, ingressNamespace)."""
    harness = copy.deepcopy(harness)
    for provider in (o for o in harness if o["kind"] == "ResourceSetInputProvider"):
        values = provider["spec"]["defaultValues"]
        if provider["metadata"]["name"] == "tenant-config":
            del values["app"]["runtime"], values["app"]["replicas"]
        if provider["metadata"]["name"] == "cluster-config":
            del values["env"], values["ingressNamespace"]
    return harness


def helm() -> str:
    return os.environ.get("HELM", "helm")


def helm_template(release: str, namespace: str, values: dict) -> list[dict]:
    """`helm template` of the chart with `values`, as helm-controller installs it."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        yaml.safe_dump(values, file)
        file.flush()
        result = subprocess.run(
            [helm(), "template", release, str(CHART), "--namespace", namespace, "--values", file.name],
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise RenderError(f"helm template: {result.stderr.strip()}")
    return load_all(result.stdout)


def install(helmrelease: dict) -> list[dict]:
    spec = helmrelease["spec"]
    namespace = spec.get("targetNamespace") or helmrelease["metadata"]["namespace"]
    return helm_template(
        spec.get("releaseName") or helmrelease["metadata"]["name"], namespace, spec.get("values") or {}
    )


def ingress_shim_certificates(objects: list[dict]) -> list[dict]:
    """The Certificates cert-manager's ingress-shim creates for Ingresses that name an issuer."""
    certificates = []
    for ingress in (o for o in objects if o["kind"] == "Ingress"):
        annotations = ingress["metadata"].get("annotations") or {}
        for annotation, kind in (
            ("cert-manager.io/cluster-issuer", "ClusterIssuer"),
            ("cert-manager.io/issuer", "Issuer"),
        ):
            issuer = annotations.get(annotation)
            if not issuer:
                continue
            for tls in ingress["spec"].get("tls", []):
                certificates.append(
                    {
                        "apiVersion": "cert-manager.io/v1",
                        "kind": "Certificate",
                        "metadata": {"name": tls["secretName"], "namespace": ingress["metadata"]["namespace"]},
                        "spec": {
                            "secretName": tls["secretName"],
                            "dnsNames": tls["hosts"],
                            "issuerRef": {"name": issuer, "kind": kind, "group": "cert-manager.io"},
                            "usages": ["digital signature", "key encipherment"],
                        },
                    }
                )
    return certificates
