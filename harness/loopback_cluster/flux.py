"""Flux in the loopback cluster: flux-operator's controller, source-controller and helm-controller,
each built from its module (scripts/lib.sh, ensure_flux_controllers), run with its upstream CRDs
(cluster.py installs them) and RBAC under a ServiceAccount of its own in flux-system, never as
system:masters.

- flux-operator reconciles ResourceSets into OCIRepositories and HelmReleases. Its upstream
  install binds it to cluster-admin, since a ResourceSet may render any kind; so does this one.
- source-controller pulls the chart from the registry an OCIRepository names and serves it as an
  artifact on loopback (`--storage-adv-addr`), where helm-controller fetches it: there is no
  cluster DNS here.
- helm-controller installs, upgrades, remediates and uninstalls the HelmReleases, bound to its
  upstream `reconciler-role` (every verb on every kind, as Flux's `cluster-reconciler`).
"""

import pathlib

import yaml

from harness.ports import free_port
from harness.processes import Process, http_status, tool, wait_until
from harness.tools import module_source

NAMESPACE = "flux-system"


def upstream_rbac(controller: str, files: list[pathlib.Path]) -> list[dict]:
    """The controller's RBAC as its module ships it, its roles renamed after it (every Flux
    controller calls its ClusterRole manager-role) and bound to its own ServiceAccount."""
    objects = []
    for file in files:
        for obj in yaml.safe_load_all(file.read_text()):
            if not obj:
                continue
            obj["metadata"]["name"] = f"{controller}-{obj['metadata']['name']}"
            if obj["kind"] in ("ClusterRoleBinding", "RoleBinding"):
                obj["roleRef"]["name"] = f"{controller}-{obj['roleRef']['name']}"
                obj["subjects"] = [{"kind": "ServiceAccount", "name": controller, "namespace": NAMESPACE}]
            if obj["kind"] in ("Role", "RoleBinding"):
                obj["metadata"]["namespace"] = NAMESPACE
            objects.append(obj)
    return objects


class Flux:
    def __init__(self, cluster):
        self.cluster = cluster
        self.dir = cluster.dir / "flux"

    def start(self):
        self.dir.mkdir()
        c = self.cluster
        source = module_source("source-controller")
        helm = module_source("helm-controller")
        operator = module_source("flux-operator")

        objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}]
        objects += [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": NAMESPACE}}
            for name in ("source-controller", "helm-controller", "flux-operator")
        ]
        objects += upstream_rbac(
            "source-controller",
            [source / "config" / "rbac" / "role.yaml", source / "config" / "rbac" / "role_binding.yaml"],
        )
        objects += upstream_rbac(
            "helm-controller",
            [
                helm / "config" / "rbac" / name
                for name in ("role.yaml", "role_binding.yaml", "cluster_role.yaml", "cluster_role_binding.yaml")
            ],
        )
        objects += upstream_rbac(
            "flux-operator",
            [operator / "config" / "rbac" / "role.yaml", operator / "config" / "rbac" / "role_binding.yaml"],
        )
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "flux-operator-cluster-admin"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"kind": "ServiceAccount", "name": "flux-operator", "namespace": NAMESPACE}],
            }
        )
        c.kubectl("create", "-f", "-", input=yaml.safe_dump_all(objects))

        storage = free_port()
        for folder in ("source-controller", "flux-operator"):
            (self.dir / folder).mkdir()
        self.spawn(
            "source-controller",
            [
                tool("source-controller"),
                f"--storage-path={self.dir / 'source-controller'}",
                f"--storage-addr=127.0.0.1:{storage}",
                f"--storage-adv-addr=127.0.0.1:{storage}",
                "--watch-all-namespaces=true",
            ],
        )
        self.spawn("helm-controller", [tool("helm-controller"), "--watch-all-namespaces=true"])
        self.spawn(
            "flux-operator",
            [
                tool("flux-operator-controller"),
                f"--storage-path={self.dir / 'flux-operator'}",
                "--web-server-port=0",
            ],
        )

    def spawn(self, name: str, command: list[str]):
        """Starts a controller with a kubeconfig of its ServiceAccount's token, on loopback
        ports, and waits for its health endpoint."""
        kubeconfig = self.dir / f"{name}.kubeconfig"
        token = self.cluster.kubectl("create", "token", name, "-n", NAMESPACE, "--duration=48h").stdout.strip()
        config = yaml.safe_load(self.cluster.kubeconfig.read_text())
        config["users"] = [{"name": "admin", "user": {"token": token}}]
        kubeconfig.write_text(yaml.safe_dump(config))
        health = free_port()
        command += [
            f"--metrics-addr=127.0.0.1:{free_port()}",
            f"--health-addr=127.0.0.1:{health}",
            "--enable-leader-election=false",
        ]
        process = Process(name, command, self.dir, env={"KUBECONFIG": str(kubeconfig), "RUNTIME_NAMESPACE": NAMESPACE})
        self.cluster.processes.append(process)
        wait_until(
            f"{name} /readyz",
            lambda: http_status(f"http://127.0.0.1:{health}/readyz") == 200,
            60,
            watch=self.cluster.processes,
            blame=process,
        )
