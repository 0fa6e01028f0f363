"""The deployment chain, offline, step by step as the cluster runs it:

1. `kubectl kustomize test/`: the harness, with the production ResourceSet from deployment/base;
2. the ${VARS} filled in, as Flux's postBuild substitution fills them (defaults: test/mise.toml);
3. the ResourceSet rendered as flux-operator renders it: Static providers export their
   defaultValues, the Permute strategy scopes each provider's inputs under its normalized
   name (tenant-config -> tenant_config) and takes the cartesian product, and every resource
   template runs through Go's text/template with << >> and missingkey=error
   (project-tests/resourceset-render);
4. each HelmRelease's values rendered into the chart with Helm (`helm template`);
5. the Certificate cert-manager's ingress-shim derives from each annotated Ingress.
"""

import itertools
import json
import os
import re
import subprocess
import tempfile
import tomllib
import zlib

import yaml

from conftest import ROOT
from kube import load_all

HARNESS = ROOT / "test"
CHART = ROOT / "charts" / "hello-world"
RENDERER = ROOT / "project-tests" / "resourceset-render"
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class RenderError(Exception):
    """A step of the chain refused its input; the message says which step and why."""


def harness_env(**overrides: str) -> dict[str, str]:
    """The harness inputs: test/mise.toml's [env], overridden by the environment, then by
    `overrides`."""
    defaults = tomllib.loads((HARNESS / "mise.toml").read_text())["env"]
    env = {key: os.environ.get(key, str(value)) for key, value in defaults.items()}
    env.update(overrides)
    return env


def kustomize(path=HARNESS) -> str:
    result = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {path}: {result.stderr.strip()}")
    return result.stdout


def substitute(text: str, env: dict[str, str]) -> str:
    """Flux postBuild substitution of ${VAR}; an unset variable is an error here (Flux would
    leave it empty, which only moves the failure further down the chain)."""

    def value(match):
        name = match.group(1)
        if name not in env:
            raise RenderError(f"${{{name}}} is not set (add it to test/mise.toml or the environment)")
        return env[name]

    return VARIABLE.sub(value, text)


def harness_objects(env: dict[str, str] | None = None) -> list[dict]:
    return load_all(substitute(kustomize(), env if env is not None else harness_env()))


def normalize_provider_name(name: str) -> str:
    """flux-operator's normalizeObjectName: lower case, '-' -> '_', only [a-z0-9_], no empty words."""
    name = re.sub(r"[^a-z0-9_]", "", name.lower().replace("-", "_"))
    return "_".join(word for word in name.split("_") if word)


def input_id(text: str) -> str:
    """flux-operator's inputs.ID: the Adler-32 checksum, in decimal."""
    return str(zlib.adler32(text.encode()))


def exported_inputs(provider: dict) -> list[dict]:
    """A Static provider exports one input set: its defaultValues plus an id (upstream hashes
    the object's UID; offline, its namespace/name) and a reference to the provider."""
    spec = provider["spec"]
    if spec.get("type") != "Static":
        raise RenderError(f"provider {provider['metadata']['name']}: only Static providers can be rendered offline")
    meta = provider["metadata"]
    inputs = json.loads(json.dumps(spec.get("defaultValues") or {}))
    inputs.setdefault("id", input_id(f"{meta.get('namespace')}/{meta['name']}"))
    inputs["provider"] = {
        "apiVersion": provider["apiVersion"],
        "kind": provider["kind"],
        "name": meta["name"],
        "namespace": meta.get("namespace"),
    }
    return [inputs]


def permute(providers: list[dict]) -> list[dict]:
    """The Permute strategy: providers sorted by namespace/name, each input set scoped under
    the provider's normalized name, one combination per element of the cartesian product."""
    providers = sorted(providers, key=lambda p: (p["metadata"].get("namespace") or "", p["metadata"]["name"]))
    scoped = []
    for provider in providers:
        name = normalize_provider_name(provider["metadata"]["name"])
        if not name:
            raise RenderError(f"normalized provider name is empty: {provider['metadata']['name']!r}")
        inputs = exported_inputs(provider)
        if inputs:
            scoped.append([(name, index, input_set) for index, input_set in enumerate(inputs)])
    combinations = []
    for choice in itertools.product(*scoped):
        combination = {name: input_set for name, _, input_set in choice}
        combination["id"] = input_id("/".join(f"{name}={index}" for name, index, _ in choice))
        combinations.append(combination)
    return combinations


def render_resourceset(resourceset: dict, objects: list[dict]) -> list[dict]:
    """The objects flux-operator would apply for `resourceset`, given the harness `objects`."""
    spec = resourceset["spec"]
    strategy = (spec.get("inputStrategy") or {}).get("name", "Flatten")
    if strategy != "Permute":
        raise RenderError(f"input strategy {strategy}: this harness renders Permute only")
    namespace = resourceset["metadata"].get("namespace")
    providers = []
    for reference in spec.get("inputsFrom", []):
        matches = [
            o for o in objects
            if o["kind"] == reference["kind"]
            and o["metadata"]["name"] == reference["name"]
            and o["metadata"].get("namespace") == namespace
        ]
        if not matches:
            raise RenderError(f"ResourceSet {resourceset['metadata']['name']}: no {reference['kind']} {reference['name']} in {namespace}")
        providers.append(matches[0])
    combinations = permute(providers)
    # sigs.k8s.io/yaml's JSONToYAML: sorted keys, no line folding.
    templates = [yaml.safe_dump(resource, sort_keys=True, width=float("inf")) for resource in spec.get("resources", [])]
    jobs = [{"template": template, "inputs": inputs} for template in templates for inputs in combinations]
    rendered = run_renderer(jobs)
    result, seen = [], set()
    for job, output in zip(jobs, rendered):
        if "error" in output:
            raise RenderError(f"ResourceSet {resourceset['metadata']['name']}: {output['error']}")
        obj = yaml.safe_load(output["output"])
        if (obj.get("metadata", {}).get("annotations") or {}).get("fluxcd.controlplane.io/reconcile") == "disabled":
            continue
        group = obj["apiVersion"].rpartition("/")[0]
        key = (group, obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if key not in seen:
            seen.add(key)
            result.append(obj)
    return result


def run_renderer(jobs: list[dict]) -> list[dict]:
    env = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off", GO111MODULE="on")
    result = subprocess.run(
        ["go", "run", "."], cwd=RENDERER, input=json.dumps(jobs), capture_output=True, text=True, env=env
    )
    if result.returncode != 0:
        raise RenderError(f"resourceset-render: {result.stderr.strip()}")
    return json.loads(result.stdout)


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
    return helm_template(spec.get("releaseName") or helmrelease["metadata"]["name"], namespace, spec.get("values") or {})


def ingress_shim_certificates(objects: list[dict]) -> list[dict]:
    """The Certificates cert-manager's ingress-shim creates for Ingresses that name an issuer."""
    certificates = []
    for ingress in (o for o in objects if o["kind"] == "Ingress"):
        annotations = ingress["metadata"].get("annotations") or {}
        for annotation, kind in (("cert-manager.io/cluster-issuer", "ClusterIssuer"), ("cert-manager.io/issuer", "Issuer")):
            issuer = annotations.get(annotation)
            if not issuer:
                continue
            for tls in ingress["spec"].get("tls", []):
                certificates.append({
                    "apiVersion": "cert-manager.io/v1",
                    "kind": "Certificate",
                    "metadata": {"name": tls["secretName"], "namespace": ingress["metadata"]["namespace"]},
                    "spec": {
                        "secretName": tls["secretName"],
                        "dnsNames": tls["hosts"],
                        "issuerRef": {"name": issuer, "kind": kind, "group": "cert-manager.io"},
                        "usages": ["digital signature", "key encipherment"],
                    },
                })
    return certificates
