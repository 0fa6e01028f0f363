"""Offline validation of Kubernetes objects.

Core kinds are validated strictly (unknown fields are errors) against the Kubernetes JSON
schemas of kubernetes-validate. Custom resources are validated against the openAPIV3Schema of
their upstream CRD (project-tests/data/crds, and the CRDs generated from upstream's API types in
$GENERATED_CRDS: the Prometheus Operator's, see scripts/lib.sh), made strict the way `kubectl apply --validate=strict`
treats them: a field the schema does not declare is an error, unless the schema preserves
unknown fields there.
"""

import functools
import os
import pathlib

import jsonschema
import kubernetes_validate
import yaml

from harness.workspace import DATA

KUBERNETES_VERSION = "1.33"


class Invalid(Exception):
    """An object that does not validate; the message names the object and the field."""


def name_of(obj: dict) -> str:
    meta = obj.get("metadata", {})
    where = f"{meta.get('namespace')}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name')}"


@functools.cache
def crd_schemas() -> dict:
    """(group, version, kind) -> strict JSON schema, for every served version of every CRD."""
    schemas = {}
    generated = os.environ.get("GENERATED_CRDS")
    paths = sorted((DATA / "crds").rglob("*.yaml"))
    paths += sorted(pathlib.Path(generated).glob("*.yaml")) if generated else []
    for path in paths:
        crd = yaml.safe_load(path.read_text())
        group = crd["spec"]["group"]
        kind = crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schema = strict(version["schema"]["openAPIV3Schema"])
                schema.get("properties", {}).pop("status", None)
                schemas[(group, version["name"], kind)] = schema
    return schemas


def strict(schema: dict) -> dict:
    """Turns a structural OpenAPI v3 schema into a JSON schema that rejects unknown fields."""
    if not isinstance(schema, dict):
        return schema
    out = {key: value for key, value in schema.items() if not key.startswith("x-kubernetes-")}
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if "properties" in out:
        out["properties"] = {k: strict(v) for k, v in out["properties"].items()}
        if "additionalProperties" not in out and not schema.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = strict(out["additionalProperties"])
    if "items" in out:
        out["items"] = strict(out["items"])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            out[key] = [strict(s) for s in schema[key]]
    return out


def validate(obj: dict) -> None:
    """Raises Invalid unless `obj` is valid for its kind: a core kind or a known CRD."""
    group, _, version = obj.get("apiVersion", "").rpartition("/")
    schema = crd_schemas().get((group, version, obj.get("kind")))
    if schema is not None:
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=str)
        if errors:
            details = "; ".join(f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)
            raise Invalid(f"{name_of(obj)} does not match its CRD: {details}")
        return
    if group and "." in group and not group.endswith(".k8s.io"):
        raise Invalid(
            f"{name_of(obj)}: no CRD for {obj.get('apiVersion')} {obj.get('kind')} in project-tests/data/crds "
            f"or $GENERATED_CRDS ({os.environ.get('GENERATED_CRDS', 'not set: run the tests with `mise run test:deploy`')})"
        )
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        raise Invalid(f"{name_of(obj)}: {error.message} (at {'.'.join(map(str, error.path))})") from None
    except kubernetes_validate.SchemaNotFoundError:
        raise Invalid(
            f"{name_of(obj)}: no Kubernetes {KUBERNETES_VERSION} schema for {obj.get('apiVersion')} {obj.get('kind')}"
        ) from None


def load_all(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(objects: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def the(objects: list[dict], kind: str, name: str | None = None) -> dict:
    found = find(objects, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[name_of(o) for o in found]}"
    return found[0]
