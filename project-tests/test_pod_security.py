"""The rendered pods against the Kubernetes Pod Security Standards (baseline and restricted),
checked field by field as the PodSecurity admission controller checks them.

runtime: native renders its own pod template, which must meet `restricted`. runtime: spin
leaves the pods to SpinKube's operator; its pod spec is rebuilt here from the SpinApp the
way spin-operator's constructDeployment builds it (no securityContext at all), so the test
states exactly which restricted checks it fails and that the namespace enforces only what
those pods pass.
"""

import pytest

from harness.chart import render
from harness.kube import the

BASELINE_CAPABILITIES = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}


def containers(pod: dict) -> list[dict]:
    return pod.get("initContainers", []) + pod.get("containers", []) + pod.get("ephemeralContainers", [])


def baseline_violations(pod: dict) -> list[str]:
    found = []
    pod_sc = pod.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            found.append(f"{field}")
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess"):
        found.append("hostProcess")
    if (pod_sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        found.append("pod seccomp Unconfined")
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl["name"] not in SAFE_SYSCTLS:
            found.append(f"sysctl {sysctl['name']}")
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            found.append(f"hostPath volume {volume['name']}")
    for c in containers(pod):
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            found.append(f"{c['name']}: privileged")
        added = set((sc.get("capabilities") or {}).get("add") or [])
        if added - BASELINE_CAPABILITIES:
            found.append(f"{c['name']}: adds {sorted(added - BASELINE_CAPABILITIES)}")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                found.append(f"{c['name']}: hostPort")
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append(f"{c['name']}: seccomp Unconfined")
        if sc.get("procMount", "Default") != "Default":
            found.append(f"{c['name']}: procMount")
    return found


def restricted_violations(pod: dict) -> list[str]:
    found = baseline_violations(pod)
    pod_sc = pod.get("securityContext") or {}
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volume {volume['name']}: {sorted(kinds)}")
    if pod_sc.get("runAsUser") == 0:
        found.append("pod runAsUser 0")
    for c in containers(pod):
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{c['name']}: allowPrivilegeEscalation != false")
        if not sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")):
            found.append(f"{c['name']}: runAsNonRoot != true")
        if sc.get("runAsUser") == 0:
            found.append(f"{c['name']}: runAsUser 0")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{c['name']}: seccompProfile not RuntimeDefault/Localhost")
        capabilities = sc.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"{c['name']}: capabilities do not drop ALL")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"{c['name']}: adds capabilities beyond NET_BIND_SERVICE")
    return found


def spin_operator_pod(app: dict, executor: dict) -> dict:
    """The pod spec spin-operator builds for a SpinApp run by a runtime-class executor
    (spinframework/spin-operator internal/controller/spinapp_controller.go)."""
    spec = app["spec"]
    checks = spec.get("checks", {})
    return {
        "runtimeClassName": executor["spec"]["deploymentConfig"]["runtimeClassName"],
        "serviceAccountName": spec.get("serviceAccountName", "default"),
        "imagePullSecrets": spec.get("imagePullSecrets", []),
        "volumes": [{"name": "spin-ca", "secret": {"secretName": "spin-ca"}}],
        "containers": [
            {
                "name": app["metadata"]["name"],
                "image": spec["image"],
                "command": ["/"],
                "ports": [{"name": "http-app", "containerPort": 80}],
                "resources": spec.get("resources", {}),
                "readinessProbe": {"httpGet": {"path": checks["readiness"]["httpGet"]["path"], "port": "http-app"}},
                "livenessProbe": {"httpGet": {"path": checks["liveness"]["httpGet"]["path"], "port": "http-app"}},
            }
        ],
    }


def test_native_pods_meet_the_restricted_profile():
    objects = render("native")
    pod = the(objects, "Deployment")["spec"]["template"]["spec"]
    assert restricted_violations(pod) == []
    namespace = the(objects, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_spin_pods_meet_baseline_and_fail_only_the_restricted_securitycontext_checks():
    objects = render("spin")
    pod = spin_operator_pod(the(objects, "SpinApp"), the(objects, "SpinAppExecutor"))
    assert baseline_violations(pod) == []
    name = the(objects, "SpinApp")["metadata"]["name"]
    assert sorted(restricted_violations(pod)) == sorted(
        [
            f"{name}: allowPrivilegeEscalation != false",
            f"{name}: runAsNonRoot != true",
            f"{name}: seccompProfile not RuntimeDefault/Localhost",
            f"{name}: capabilities do not drop ALL",
        ]
    )
    # So the namespace enforces the strictest level those pods pass, and reports the rest.
    labels = the(objects, "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"


@pytest.mark.parametrize(
    "breakage, complaint",
    [
        (
            lambda pod: pod["containers"][0]["securityContext"].update(allowPrivilegeEscalation=True),
            "allowPrivilegeEscalation",
        ),
        (lambda pod: pod["containers"][0]["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]), "adds"),
        (lambda pod: pod.update(hostNetwork=True), "hostNetwork"),
        (lambda pod: pod["securityContext"].update(runAsUser=0), "runAsUser 0"),
        (lambda pod: pod.setdefault("volumes", []).append({"name": "h", "hostPath": {"path": "/"}}), "hostPath"),
        (lambda pod: pod["containers"][0]["securityContext"].update(privileged=True), "privileged"),
    ],
)
def test_the_checks_catch_a_weakened_pod(breakage, complaint):
    pod = the(render("native"), "Deployment")["spec"]["template"]["spec"]
    breakage(pod)
    assert any(complaint in v for v in restricted_violations(pod))
