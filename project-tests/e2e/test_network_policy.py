"""The chart's NetworkPolicy, enforced on the node by kube-router (node.py), cell by cell: client
pods that the test makes in several namespaces try to connect to the app's pod, and pods that
carry the app's labels try to connect out. Each cell prints what happened. Then the policy is
deleted and the denied cells are tried again: they connect, so the matrix can fail. Through it
all the kubelet's probes keep the pod Ready.

Egress with Spin's OpenTelemetry export is checked on the policy the chart renders for it
(runtime spin, spin.otel set), applied to a namespace of its own: the collector's ports in the
monitoring namespace open, everything else stays shut."""

import pathlib
import shlex
import shutil

import pytest
import yaml

from harness.chain.deliver import deploy, running_and_ready, wait
from harness.chain.render import helm_template
from harness.loopback_cluster.ingress_controller import NAMESPACE as INGRESS_NAMESPACE
from harness.loopback_cluster.registry import push_image

MONITORING = "monitoring"
ELSEWHERE = "elsewhere"
HTTP, METRICS = 8000, 9100
# A connection not made in this many seconds counts as blocked (kube-router rejects, so a
# blocked one is mostly refused at once).
TIMEOUT = 3
# How long a client pod waits before it connects: kube-router syncs its rules when a pod gets
# its address, and a pod it has not programmed yet is not filtered yet.
SETTLE = 6
# Where the image path puts busybox (scripts/push-image).
BUSYBOX = "/usr/local/bin/busybox"


@pytest.fixture(scope="module")
def client_image(cluster) -> str:
    """Debian's static busybox as an image (the project's image path), for its nc."""
    busybox = shutil.which("busybox")
    if not busybox:
        pytest.fail("busybox is not installed: `mise run e2e` installs Debian's busybox-static")
    image = f"{cluster.registry.address}/busybox:e2e"
    push_image(pathlib.Path(busybox), "65532:65532", None, [image])
    for namespace in (MONITORING, ELSEWHERE):
        cluster.kubectl("create", "namespace", namespace, check=False)
    return image


def attempt(cluster, image: str, clients: dict[str, tuple[str, dict, list[str]]]) -> dict[str, str]:
    """Runs each client (name: namespace, labels, busybox command) once in a pod of its own, all
    at once; returns "connected" or what went wrong, by name. Each pod waits SETTLE seconds
    before its command: the enforcer programs a pod once it has its address."""
    for name, (namespace, labels, command) in clients.items():
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 65532,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [
                    {
                        "name": "client",
                        "image": image,
                        "args": ["sh", "-c", f"sleep {SETTLE}; {shlex.join(command)}"],
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
            },
        }
        cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(pod))
    results = {}
    for name, (namespace, _, _) in clients.items():

        def done(name=name, namespace=namespace) -> str | None:
            phase = cluster.get("pod", name, namespace=namespace)["status"].get("phase")
            return phase if phase in ("Succeeded", "Failed") else None

        phase = wait(f"the client pod {namespace}/{name} done", done, timeout=90)
        said = cluster.kubectl("logs", "-n", namespace, name, check=False).stdout.strip().splitlines()
        results[name] = "connected" if phase == "Succeeded" else f"no connection ({said[-1] if said else phase})"
        cluster.kubectl("delete", "pod", name, "-n", namespace, "--wait=false")
    return results


def connect(address: str, port: int) -> list[str]:
    """busybox's nc: connect, then exit 0 (it runs `busybox true` on the connection)."""
    return ["nc", "-w", str(TIMEOUT), address, str(port), "-e", BUSYBOX, "true"]


def test_the_policy_admits_the_ingress_and_monitoring_namespaces_only_and_lets_nothing_out(cluster, client_image):
    name, _, release = deploy(
        cluster,
        "native",
        "guarded",
        replicas=1,
        values={
            "networkPolicy": {"enabled": True, "ingressNamespace": INGRESS_NAMESPACE, "monitoringNamespace": MONITORING}
        },
    )
    (pod,) = running_and_ready(cluster, name, 1, timeout=180)
    address = pod["status"]["podIP"]
    # The labels the policy selects the app's pods by (the chart's selector labels).
    policy = cluster.get("networkpolicy", release["spec"]["values"].get("appName", "hello-world"), namespace=name)
    app_labels = policy["spec"]["podSelector"]["matchLabels"]
    ingress_pod = cluster.get("pods", namespace=INGRESS_NAMESPACE)["items"][0]["status"]["podIP"]
    cells = [
        # (the cell, the client's namespace, its labels, its command, connects with the policy)
        ("ingress namespace -> site port", INGRESS_NAMESPACE, {}, connect(address, HTTP), True),
        ("other namespace -> site port", ELSEWHERE, {}, connect(address, HTTP), False),
        ("monitoring -> metrics port", MONITORING, {}, connect(address, METRICS), True),
        ("monitoring -> site port", MONITORING, {}, connect(address, HTTP), False),
        ("other namespace -> metrics port", ELSEWHERE, {}, connect(address, METRICS), False),
        ("app's pod -> out (the ingress controller)", name, app_labels, connect(ingress_pod, 8000), False),
    ]

    def run(round_: str) -> dict[str, str]:
        clients = {
            f"client-{round_}-{index}": (namespace, labels, command)
            for index, (_, namespace, labels, command, _) in enumerate(cells)
        }
        answers = attempt(cluster, client_image, clients)
        results = {cell[0]: answer for cell, answer in zip(cells, answers.values(), strict=False)}
        for cell, result in results.items():
            print(f"NetworkPolicy {round_}: {cell}: {result}")
        return results

    enforced = run("enforced")
    assert {cell: result == "connected" for cell, result in enforced.items()} == {c[0]: c[4] for c in cells}, enforced

    # The pod stayed Ready through it all: the kubelet's probes come from the node.
    (after,) = running_and_ready(cluster, name, 1)
    assert after["status"]["containerStatuses"][0]["restartCount"] == 0

    cluster.kubectl("delete", "networkpolicy", policy["metadata"]["name"], "-n", name)
    # kube-router applies a change when its informer sees it, not only at its periodic sync.
    opened = run("deleted")
    assert all(result == "connected" for result in opened.values()), opened


def test_spin_otel_opens_only_the_collectors_ports_to_the_monitoring_namespace(cluster, client_image):
    namespace = "otel-egress"
    cluster.kubectl("create", "namespace", namespace)
    values = {
        "runtime": "spin",
        "appName": "hello-world",
        "namespace": namespace,
        "spin": {"createExecutor": True, "otel": {"endpoint": "http://collector.monitoring:4318"}},
        "networkPolicy": {"enabled": True, "ingressNamespace": INGRESS_NAMESPACE, "monitoringNamespace": MONITORING},
    }
    (policy,) = [o for o in helm_template("hello-world", namespace, values) if o["kind"] == "NetworkPolicy"]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(policy))
    # A collector stand-in in the monitoring namespace: busybox nc answering on 4318 and 8000.
    listener = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "collector", "namespace": MONITORING},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65532},
            "containers": [
                {"name": name, "image": client_image, "args": ["nc", "-ll", "-p", port, "-e", BUSYBOX, "true"]}
                for name, port in (("otlp", "4318"), ("other", "8000"))
            ],
        },
    }
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(listener))
    collector_ip = wait(
        "the collector stand-in Running",
        lambda: (
            (cluster.get("pod", "collector", namespace=MONITORING)["status"].get("phase") == "Running")
            and cluster.get("pod", "collector", namespace=MONITORING)["status"]["podIP"]
        ),
    )
    labels = policy["spec"]["podSelector"]["matchLabels"]
    cells = {
        "spin pod -> collector's OTLP port": (connect(collector_ip, 4318), True),
        "spin pod -> another port in monitoring": (connect(collector_ip, 8000), False),
    }
    answers = attempt(
        cluster,
        client_image,
        {f"otel-{index}": (namespace, labels, command) for index, (command, _) in enumerate(cells.values())},
    )
    results = dict(zip(cells, answers.values(), strict=False))
    for cell, result in results.items():
        print(f"NetworkPolicy with spin.otel: {cell}: {result}")
    cluster.kubectl("delete", "pod", "collector", "-n", MONITORING, "--wait=false")
    assert {cell: result == "connected" for cell, result in results.items()} == {c: v[1] for c, v in cells.items()}, (
        results
    )
