"""What a node changes on the host, recorded before it starts and put back after it stops.

The kubelet sets sysctls (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops, ...) and
writes under /var/lib/kubelet and /usr/libexec/kubernetes even with --root-dir; kube-proxy,
kube-router and the CNI plugins write iptables rules, and kube-router makes IP sets; containerd and the kubelet mount overlays, shm, netns and
volumes; the kubelet makes the kubepods cgroups. `HostState.record()` notes what is there
before (and, on cgroup v2 inside a container, readies the root cgroup: CgroupV2Root),
`restore()` removes what the node added and puts back what it changed, and
`leftovers()` says what is still different afterwards (the e2e asserts it is nothing).
"""

import contextlib
import os
import pathlib
import subprocess

# The sysctls a node may change: the kubelet's (vm.*, kernel.panic*, kernel.keys.*), the CNI
# bridge plugin's and kube-proxy's (forwarding, route_localnet, bridge netfilter, conntrack).
SYSCTL_PREFIXES = (
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.keys.root_max",
    "net.ipv4.ip_forward",
    "net.ipv4.conf.all.",
    "net.ipv4.conf.default.",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.",
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_tcp_timeout_established",
    "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
    "net.nf_conntrack_max",
)
# Folders the kubelet creates on the host whatever its flags say, and the one containerd-shim-spin
# keeps its containers' state under (containerd-shimkit's default root, /run/containerd/spin:
# containerd hands a runtime other than runc no root of its own).
HOST_FOLDERS = (
    pathlib.Path("/var/lib/kubelet"),
    pathlib.Path("/var/log/pods"),
    pathlib.Path("/var/log/containers"),
    pathlib.Path("/run/containerd"),
)
CGROUP_ROOT = pathlib.Path("/sys/fs/cgroup")
PROC_SYS = pathlib.Path("/proc/sys")


def sysctls() -> dict[str, str]:
    """The sysctls of SYSCTL_PREFIXES, read from /proc/sys (a bare debian:bookworm has no
    `sysctl` command: procps is not in it)."""
    values = {}
    for top in sorted({prefix.split(".")[0] for prefix in SYSCTL_PREFIXES}):
        for path in (PROC_SYS / top).rglob("*"):
            key = ".".join(path.relative_to(PROC_SYS).parts)
            if not key.startswith(SYSCTL_PREFIXES) or not path.is_file():
                continue
            with contextlib.suppress(OSError):  # write-only or not readable here
                values[key] = path.read_text().strip()
    return values


def set_sysctl(key: str, value: str):
    (PROC_SYS / key.replace(".", "/")).write_text(value)


def nft_tables() -> set[str]:
    """The netfilter tables (`family name`): iptables-nft makes them on first use."""
    result = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True)
    return {line.removeprefix("table ").strip() for line in result.stdout.splitlines() if line.startswith("table ")}


def iptables_rules() -> dict[str, str]:
    return {
        tool: subprocess.run([f"{tool}-save"], capture_output=True, text=True).stdout
        for tool in ("iptables", "ip6tables")
    }


def ipsets() -> set[str]:
    """The names of the kernel's IP sets (kube-router's NetworkPolicy rules match on them)."""
    result = subprocess.run(["ipset", "list", "-name"], capture_output=True, text=True)
    return set(result.stdout.split()) if result.returncode == 0 else set()


def rules_only(save: str) -> list[str]:
    """iptables-save output without its comments and counters, for comparison."""
    return [
        line.split(" [", 1)[0] if line.startswith(":") else line
        for line in save.splitlines()
        if line and not line.startswith("#")
    ]


def mounts_under(folder: pathlib.Path) -> list[str]:
    points = []
    for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == str(folder) or point.startswith(f"{folder}/"):
            points.append(point)
    return points


class CgroupV2Root:
    """On a cgroup v2 machine the kubelet enables controllers in the root cgroup's
    subtree_control. Inside a container (CI's debian:bookworm job) that root is the
    container's cgroup namespace, which holds the container's processes, and cgroup v2 refuses
    controllers for the children of a cgroup with processes (EBUSY). There, as kind's node image
    does, the processes move into a child cgroup first. On a host the real root is exempt, and
    nothing moves. `undo()` puts processes and controllers back."""

    def __init__(self):
        self.root = CGROUP_ROOT
        self.moved_to: pathlib.Path | None = None
        self.enabled: list[str] = []

    def prepare(self):
        if not (self.root / "cgroup.controllers").exists():
            return  # cgroup v1: nothing to do
        wanted = set((self.root / "cgroup.controllers").read_text().split())
        missing = sorted(wanted - set((self.root / "cgroup.subtree_control").read_text().split()))
        if not missing:
            return
        try:
            self.enable(missing)
        except OSError:
            self.moved_to = self.root / "hello-world-init"
            self.moved_to.mkdir(exist_ok=True)
            for pid in (self.root / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):  # a process that exited, or a kernel thread
                    (self.moved_to / "cgroup.procs").write_text(pid)
            self.enable(missing)

    def enable(self, controllers: list[str]):
        for controller in controllers:
            (self.root / "cgroup.subtree_control").write_text(f"+{controller}")
            self.enabled.append(controller)

    def undo(self, problems: list[str]):
        for controller in reversed(self.enabled):
            try:
                (self.root / "cgroup.subtree_control").write_text(f"-{controller}")
            except OSError as error:
                problems.append(f"cgroup.subtree_control -{controller}: {error}")
        self.enabled = []
        if self.moved_to:
            for pid in (self.moved_to / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (self.root / "cgroup.procs").write_text(pid)
            try_rmdir(self.moved_to, problems)
            self.moved_to = None


def kubepods_cgroups() -> list[pathlib.Path]:
    """The kubelet's cgroups: under each v1 controller's hierarchy, or at the v2 root."""
    return sorted(
        {path for pattern in ("kubepods*", "*/kubepods*") for path in CGROUP_ROOT.glob(pattern) if path.is_dir()}
    )


class HostState:
    def __init__(self, workdir: pathlib.Path, bridge: str):
        self.workdir = workdir
        self.bridge = bridge

    def record(self):
        self.sysctls = sysctls()
        self.tables = nft_tables()
        self.rules = iptables_rules()
        self.ipsets = ipsets()
        self.folders = {folder for folder in HOST_FOLDERS if folder.exists()}
        self.cgroups = set(kubepods_cgroups())
        self.cgroup_v2 = CgroupV2Root()
        self.cgroup_v2.prepare()

    def new_cgroups(self) -> list[pathlib.Path]:
        """The kubepods cgroups made since `record()` (none before it)."""
        if not hasattr(self, "cgroups"):
            return []
        return sorted(set(kubepods_cgroups()) - self.cgroups)

    def restore(self) -> list[str]:
        """Undoes what the node did; returns what it could not undo."""
        problems = []
        for point in sorted(mounts_under(self.workdir), key=len, reverse=True):
            if subprocess.run(["umount", point], capture_output=True).returncode != 0:
                subprocess.run(["umount", "--lazy", point], capture_output=True)
        for path in self.new_cgroups():
            # Leaves first: a cgroup folder can be removed only once its children are gone.
            for child in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
                try_rmdir(child, problems)
            try_rmdir(path, problems)
        self.cgroup_v2.undo(problems)
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)
        for family_name in nft_tables() - self.tables:
            subprocess.run(["nft", "delete", "table", *family_name.split()], capture_output=True)
        current = iptables_rules()
        for tool, saved in self.rules.items():
            if rules_only(current[tool]) != rules_only(saved):
                subprocess.run([f"{tool}-restore"], input=saved, text=True, capture_output=True)
        # Once no rule refers to them.
        for name in ipsets() - self.ipsets:
            subprocess.run(["ipset", "destroy", name], capture_output=True)
        now = sysctls()
        for key, value in self.sysctls.items():
            if now.get(key) not in (None, value):
                try:
                    set_sysctl(key, value)
                except OSError as error:
                    problems.append(f"sysctl {key}={value}: {error}")
        for folder in set(HOST_FOLDERS) - self.folders:
            if folder.exists():
                subprocess.run(["rm", "-rf", "--one-file-system", str(folder)], capture_output=True)
        return problems + self.leftovers()

    def leftovers(self) -> list[str]:
        """What is still different from before the node started."""
        found = [f"mount {point}" for point in mounts_under(self.workdir)]
        found += [f"cgroup {path}" for path in self.new_cgroups()]
        if pathlib.Path(f"/sys/class/net/{self.bridge}").exists():
            found.append(f"bridge {self.bridge}")
        found += [f"netfilter table {table}" for table in sorted(nft_tables() - self.tables)]
        current = iptables_rules()
        found += [
            f"{tool} rules" for tool, saved in self.rules.items() if rules_only(current[tool]) != rules_only(saved)
        ]
        found += [f"ipset {name}" for name in sorted(ipsets() - self.ipsets)]
        now = sysctls()
        found += [
            f"sysctl {key} = {now.get(key)} (was {value})"
            for key, value in self.sysctls.items()
            if now.get(key) not in (None, value)
        ]
        found += [f"folder {folder}" for folder in sorted(set(HOST_FOLDERS) - self.folders) if folder.exists()]
        return found


def try_rmdir(path: pathlib.Path, problems: list[str]):
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        problems.append(f"rmdir {path}: {error}")
