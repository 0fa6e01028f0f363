"""The chart as the tests render it: Helm's template of charts/hello-world with the tenant's
Ingress on, and what its objects say of the pods."""

from harness.chain.render import helm_template
from harness.kube import the

HOST = "acme.hello-world.k8s.example.com"


def render(runtime: str, **values) -> list[dict]:
    """The chart's objects for `runtime`, with the Ingress for HOST and `values` on top."""
    base = {"runtime": runtime, "ingress": {"enabled": True, "hostname": HOST}}
    base.update(values)
    return helm_template("hello-world", "hello-world", base)


def the_container(pod: dict) -> dict:
    """A pod spec's one container."""
    assert len(pod["containers"]) == 1
    return pod["containers"][0]


def pod_labels(objects: list[dict], runtime: str) -> dict:
    """The labels the runtime's pods carry: the Deployment's template, or what spin-operator
    puts on the pods of a SpinApp (its podLabels)."""
    if runtime == "native":
        return the(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    return the(objects, "SpinApp")["spec"]["podLabels"]
