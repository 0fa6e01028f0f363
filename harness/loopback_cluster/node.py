"""One real node for the loopback cluster: containerd with runc, the CNI plugins, the kubelet,
kube-proxy (iptables mode) and kube-router as the NetworkPolicy enforcer, each built from its
module (scripts/lib.sh, ensure_node_tools).

The network is the test's own: a bridge it makes (POD_GATEWAY on it), pods in network
namespaces that containerd makes through the CNI bridge plugin, addresses from host-local, and
no route out: the bridge plugin neither masquerades nor gives pods a default route. The host
reaches Service addresses over the bridge, and pods reach them through the host (routes the test
adds), so nothing travels further than loopback, the bridge and the pods. Pods resolve names through loopback (resolv.conf).

What the machine needs, found by running a node here:
- CAP_SYS_RESOURCE is not in the VM's bounding set, so runc cannot raise a sandbox's
  oom_score_adj: containerd's `restrict_oom_score_adj = true`;
- the API server must reach the kubelet by its address, never through the VM's DNS resolver
  (`--kubelet-preferred-address-types=InternalIP`, cluster.py); the node's address is the
  bridge's, since the kubelet refuses a loopback node IP;
- cgroup v1 with the cgroupfs driver (`failCgroupV1: false`), swap on (`failSwapOn: false`).

`stop()` ends every process by PID (containers through runc, then the shims, containerd, the
kubelet, kube-proxy and kube-router), and host.py puts back what they changed.
"""

import json
import os
import pathlib
import shutil
import subprocess
import time

import yaml

from harness.loopback_cluster.host import HostState
from harness.ports import free_port
from harness.processes import Process, StepFailed, run, tool, wait_until

NODE_NAME = "loopback-node"
BRIDGE = "hw-cluster0"
POD_SUBNET = "10.244.0.0/24"
POD_GATEWAY = "10.244.0.1"
SERVICE_SUBNET = "10.96.0.0/16"


class Node:
    def __init__(self, workdir: pathlib.Path, kubeconfig: pathlib.Path):
        self.dir = workdir / "node"
        self.kubeconfig = kubeconfig
        self.processes: list[Process] = []
        self.host = HostState(self.dir, BRIDGE)
        self.socket = self.dir / "containerd" / "containerd.sock"
        self.runc_root = self.dir / "runc"
        self.image_policy = self.dir / "image-verifier.policy"

    def make_network(self):
        """The bridge, first of all: the API server listens on its address, where the host's
        clients and the pods alike reach it."""
        if pathlib.Path(f"/sys/class/net/{BRIDGE}").exists():
            raise StepFailed(
                f"the node's bridge {BRIDGE} exists: another loopback cluster runs on this machine "
                "(stop it with `bin/mise run cluster -- down`)"
            )
        if os.geteuid() != 0:
            raise StepFailed(
                "a node needs root: containerd, runc and the kubelet manage namespaces, cgroups and iptables"
            )
        self.dir.mkdir(parents=True)
        self.host.record()
        self.make_bridge()

    def start(self, watch: list[Process], sandbox_image: str, registry: str):
        """containerd (pulling from `registry`, host:port, with `sandbox_image` as the pause
        image), the kubelet, kube-proxy and kube-router, on the network `make_network` made."""
        self.sandbox_image = sandbox_image
        self.registry = registry
        self.start_containerd(watch)
        self.start_kubelet(watch)
        self.start_kube_proxy(watch)
        self.start_network_policy(watch)

    def make_bridge(self):
        for command in (
            ["ip", "link", "add", BRIDGE, "type", "bridge"],
            ["ip", "addr", "add", f"{POD_GATEWAY}/24", "dev", BRIDGE],
            ["ip", "link", "set", BRIDGE, "up"],
            # Service addresses leave the host over the bridge, from its address: kube-proxy's
            # DNAT then sends them to a pod, and nothing addressed to a Service takes the VM's
            # default route, even before kube-proxy has written its rules.
            ["ip", "route", "add", SERVICE_SUBNET, "dev", BRIDGE, "src", POD_GATEWAY],
        ):
            run(command, "the node's bridge")
        cni = self.dir / "cni"
        cni.mkdir()
        (cni / "10-loopback-cluster.conflist").write_text(
            json.dumps(
                {
                    "cniVersion": "1.0.0",
                    "name": "loopback-cluster",
                    "plugins": [
                        {
                            "type": "bridge",
                            "bridge": BRIDGE,
                            "isGateway": False,
                            "ipMasq": False,
                            "hairpinMode": True,
                            "ipam": {
                                "type": "host-local",
                                "ranges": [[{"subnet": POD_SUBNET, "gateway": POD_GATEWAY}]],
                                # Service addresses through the host, where kube-proxy's rules take them
                                # on; still no default route.
                                "routes": [{"dst": SERVICE_SUBNET, "gw": POD_GATEWAY}],
                                "dataDir": str(self.dir / "cni-ipam"),
                            },
                        },
                        {"type": "portmap", "capabilities": {"portMappings": True}},
                    ],
                },
                indent=2,
            )
        )
        (self.dir / "resolv.conf").write_text("nameserver 127.0.0.1\n")

    def pull_over_http(self, registry: str):
        """Lets containerd pull from `registry` (host:port) over plain HTTP; it reads certs.d at
        each pull, so a registry started later is added the same way."""
        certs = self.dir / "certs.d" / registry
        certs.mkdir(parents=True)
        (certs / "hosts.toml").write_text(
            f'server = "http://{registry}"\n[host."http://{registry}"]\n  capabilities = ["pull", "resolve"]\n'
        )

    def require_signatures(self, repository: str, public_key: pathlib.Path):
        """From now on, the node pulls an image of `repository` (host:port/name, plain HTTP)
        only when its cosign signature verifies with `public_key` (image-verifier/)."""
        with self.image_policy.open("a") as policy:
            policy.write(f"{repository} {public_key} http\n")

    def start_containerd(self, watch):
        self.pull_over_http(self.registry)
        config = self.dir / "containerd.toml"
        d = self.dir
        # The overlay snapshotter cannot keep its layers on an overlay file system (a
        # container's root, such as CI's debian:bookworm job); there the native one copies.
        backing = subprocess.run(["stat", "-f", "-c", "%T", str(d)], capture_output=True, text=True).stdout.strip()
        snapshotter = "native" if backing == "overlayfs" else "overlayfs"
        verifiers = d / "containerd" / "image-verifiers"
        verifiers.mkdir(parents=True)
        shutil.copy(tool("image-verifier"), verifiers / "image-verifier")
        self.image_policy.write_text(
            "# <repository> <cosign public key> [http]: covered repositories (require_signatures)\n"
        )
        config.write_text(f"""
version = 3
root = "{d}/containerd/root"
state = "{d}/containerd/state"
imports = []
# Nothing that writes outside the node's folder or listens beyond its socket.
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{self.socket}"
[ttrpc]
  address = "{self.socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/containerd/opt"
# Every pull asks the image verifier (image-verifier/): an image of a repository its policy
# covers is pulled only with a signature that cosign verifies.
[plugins."io.containerd.image-verifier.v1.bindir"]
  bin_dir = "{verifiers}"
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_cdi = false
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "{tool("runc")}"
        Root = "{self.runc_root}"
        SystemdCgroup = false
    # SpinKube's shim, as its node installer registers it: the handler of the RuntimeClass
    # wasmtime-spin-v2; containerd runs containerd-shim-spin-v2 from its PATH.
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.spin]
      runtime_type = "io.containerd.spin.v2"
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["{tool("cni-plugins")}"]
    conf_dir = "{d}/cni"
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "{snapshotter}"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "{self.sandbox_image}"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "{d}/certs.d"
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
# Pulls go through the transfer service, which unpacks with overlayfs unless told otherwise.
[[plugins."io.containerd.transfer.v1.local".unpack_config]]
  platform = "linux/amd64"
  snapshotter = "{snapshotter}"
""")
        # containerd finds its shims on its PATH: containerd-shim-runc-v2 beside it, and
        # containerd-shim-spin-v2.
        shims = [os.path.dirname(tool("containerd")), os.path.dirname(tool("containerd-shim-spin"))]
        self.spawn(
            "containerd",
            [tool("containerd"), f"--config={config}"],
            env={
                "PATH": ":".join([*shims, os.environ["PATH"]]),
                "IMAGE_VERIFIER_POLICY": str(self.image_policy),
                "IMAGE_VERIFIER_COSIGN": tool("cosign"),
            },
        )
        wait_until(
            "containerd's socket", self.socket.exists, 30, watch=watch + self.processes, blame=self.processes[-1]
        )

    def start_kubelet(self, watch):
        self.kubelet_port, healthz = free_port(), free_port()
        config = self.dir / "kubelet.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "kubelet.config.k8s.io/v1beta1",
                    "kind": "KubeletConfiguration",
                    "address": POD_GATEWAY,
                    "port": self.kubelet_port,
                    "readOnlyPort": 0,
                    "healthzBindAddress": "127.0.0.1",
                    "healthzPort": healthz,
                    # Reachable only on the test's bridge; the API server and metrics-server read it.
                    "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
                    "authorization": {"mode": "AlwaysAllow"},
                    "cgroupDriver": "cgroupfs",
                    "failSwapOn": False,
                    "failCgroupV1": False,
                    "containerRuntimeEndpoint": f"unix://{self.socket}",
                    "resolvConf": str(self.dir / "resolv.conf"),
                    "podLogsDir": str(self.dir / "pod-logs"),
                    "volumePluginDir": str(self.dir / "volume-plugins"),
                    # A shared machine's disk and memory are not this node's to guard.
                    "evictionHard": {
                        "memory.available": "50Mi",
                        "nodefs.available": "1%",
                        "imagefs.available": "1%",
                        "nodefs.inodesFree": "1%",
                    },
                    "imageGCHighThresholdPercent": 100,
                    "serializeImagePulls": False,
                    "syncFrequency": "10s",
                }
            )
        )
        self.spawn(
            "kubelet",
            [
                tool("kubelet"),
                f"--config={config}",
                f"--kubeconfig={self.kubeconfig}",
                f"--root-dir={self.dir / 'kubelet'}",
                f"--cert-dir={self.dir / 'kubelet-pki'}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={POD_GATEWAY}",
                "--v=1",
            ],
        )
        wait_until(
            f"node {NODE_NAME} Ready",
            lambda: self.node_ready(),
            90,
            interval=0.5,
            watch=watch + self.processes,
            blame=self.processes[-1],
        )

    def node_ready(self) -> bool:
        result = subprocess.run(
            [
                tool("kubectl"),
                f"--kubeconfig={self.kubeconfig}",
                "get",
                "node",
                NODE_NAME,
                "-o",
                "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            ],
            capture_output=True,
            text=True,
        )
        return result.stdout == "True"

    def start_kube_proxy(self, watch):
        self.kube_proxy_config = self.dir / "kube-proxy.yaml"
        self.kube_proxy_config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
                    "kind": "KubeProxyConfiguration",
                    "mode": "iptables",
                    "hostnameOverride": NODE_NAME,
                    "clusterCIDR": POD_SUBNET,
                    "clientConnection": {"kubeconfig": str(self.kubeconfig)},
                    "bindAddress": "127.0.0.1",
                    "healthzBindAddress": f"127.0.0.1:{free_port()}",
                    "metricsBindAddress": f"127.0.0.1:{free_port()}",
                    # 0 leaves the host's conntrack settings as they are.
                    "conntrack": {
                        "maxPerCore": 0,
                        "min": 0,
                        "tcpEstablishedTimeout": "0s",
                        "tcpCloseWaitTimeout": "0s",
                        "udpTimeout": "0s",
                        "udpStreamTimeout": "0s",
                    },
                    # No NodePorts on loopback: that would need route_localnet on the host.
                    "iptables": {"localhostNodePorts": False, "masqueradeAll": False},
                    "nodePortAddresses": [f"{POD_GATEWAY}/32"],
                }
            )
        )
        self.spawn("kube-proxy", [tool("kube-proxy"), f"--config={self.kube_proxy_config}"])
        wait_until(
            "kube-proxy's rules",
            lambda: b"KUBE-SERVICES" in subprocess.run(["iptables-save", "-t", "nat"], capture_output=True).stdout,
            30,
            watch=watch + self.processes,
            blame=self.processes[-1],
        )

    def start_network_policy(self, watch):
        """kube-router with the flags of upstream's kube-router-firewall-daemonset.yaml (the
        firewall alone: no routing, no service proxy), on the host as the node's other agents
        run here. It filters the bridged traffic between pods (bridge-nf-call-iptables) by each
        pod's NetworkPolicies, and lets the node's own address reach every pod (the kubelet's
        probes)."""
        self.spawn(
            "kube-router",
            [
                tool("kube-router"),
                "--run-router=false",
                "--run-firewall=true",
                "--run-service-proxy=false",
                f"--kubeconfig={self.kubeconfig}",
                f"--hostname-override={NODE_NAME}",
                f"--service-cluster-ip-range={SERVICE_SUBNET}",
                f"--health-port={free_port()}",
                "--metrics-port=0",
            ],
        )
        wait_until(
            "kube-router's NetworkPolicy chains",
            lambda: (
                b"KUBE-ROUTER-FORWARD" in subprocess.run(["iptables-save", "-t", "filter"], capture_output=True).stdout
            ),
            60,
            watch=watch + self.processes,
            blame=self.processes[-1],
        )

    def spawn(self, name: str, command: list[str], env: dict | None = None):
        self.processes.append(Process(name, command, self.dir, env))

    # Reading back what the runtime runs.

    def container(self, container_id: str) -> dict:
        """A running container as the runtime holds it: the OCI spec containerd handed runc
        (the bundle's config.json), and what its first process really is (/proc): real and
        effective uid and gid, and the options of the mount at its root."""
        container_id = container_id.removeprefix("containerd://")
        bundle = self.dir / "containerd" / "state" / "io.containerd.runtime.v2.task" / "k8s.io" / container_id
        spec = json.loads((bundle / "config.json").read_text())
        pid = json.loads((self.runc_root / "k8s.io" / container_id / "state.json").read_text())["init_process_pid"]
        status = dict(
            line.split(":\t", 1)
            for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines()
            if ":\t" in line
        )
        root = next(
            line.split()
            for line in pathlib.Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
            if line.split()[4] == "/"
        )
        return {
            "spec": spec,
            "uids": status["Uid"].split(),
            "gids": status["Gid"].split(),
            "root_options": root[5].split(","),
            "bounding": status["CapBnd"],
        }

    def shim_of(self, container_id: str) -> str:
        """The shim binary containerd started for a container's pod: its sandbox's bundle
        records it (shim-binary-path), and the container's spec names its sandbox."""
        tasks = self.dir / "containerd" / "state" / "io.containerd.runtime.v2.task" / "k8s.io"
        spec = json.loads((tasks / container_id.removeprefix("containerd://") / "config.json").read_text())
        sandbox = spec["annotations"]["io.kubernetes.cri.sandbox-id"]
        return (tasks / sandbox / "shim-binary-path").read_text()

    # Tear-down.

    def stop(self) -> list[str]:
        """Stops the node and restores the host; returns what is left over (nothing, if all went well)."""
        for process in reversed(self.processes):
            if process.name in ("kubelet", "kube-proxy", "kube-router"):
                process.stop()
        # Containers, by their PIDs as runc knows them; then every process still in the pods'
        # cgroups (containerd-shim-spin's containers, sandboxes included, are not runc's); then
        # the shims, then containerd.
        for container in self.runc_containers():
            subprocess.run(
                [tool("runc"), "--root", str(self.runc_root / "k8s.io"), "delete", "--force", container],
                capture_output=True,
            )
        for pid in self.pod_pids():
            kill(pid)
        for pid in self.shim_pids():
            kill(pid)
        for process in reversed(self.processes):
            process.stop()
        if getattr(self, "kube_proxy_config", None):
            subprocess.run([tool("kube-proxy"), "--cleanup", f"--config={self.kube_proxy_config}"], capture_output=True)
        if any(process.name == "kube-router" for process in self.processes):
            subprocess.run([tool("kube-router"), "--cleanup-config"], capture_output=True)
        left = [f"process {pid} (shim)" for pid in self.shim_pids()] + [
            f"process {pid} (pod)" for pid in self.pod_pids()
        ]
        return left + (self.host.restore() if hasattr(self.host, "sysctls") else [])

    def runc_containers(self) -> list[str]:
        root = self.runc_root / "k8s.io"
        return sorted(p.name for p in root.iterdir()) if root.is_dir() else []

    def pod_pids(self) -> list[int]:
        """The processes in the kubepods cgroups this node made."""
        return sorted(
            {
                int(pid)
                for cgroup in self.host.new_cgroups()
                for procs in cgroup.rglob("cgroup.procs")
                for pid in procs.read_text().split()
            }
        )

    def shim_pids(self) -> list[int]:
        """The shims (containerd-shim-runc-v2, containerd-shim-spin-v2) that serve this node's
        containerd (by its socket)."""
        pids = []
        for proc in pathlib.Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            binary = os.path.basename(cmdline[0])
            if binary in (b"containerd-shim-runc-v2", b"containerd-shim-spin-v2") and str(
                self.socket
            ).encode() in b" ".join(cmdline):
                pids.append(int(proc.name))
        return pids


def kill(pid: int):
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        return
    for _ in range(50):
        if not pathlib.Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.1)
