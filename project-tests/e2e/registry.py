"""The loopback cluster's OCI registry: distribution's registry (v3, built from its module) on
127.0.0.1, plain HTTP, storing in the cluster's folder. containerd pulls every image from it:
the sandbox's pause image, built here from Kubernetes' own pause.c, and the images the
project's push path puts there (`mise-tasks/push`, scripts/push-image).
"""

import os
import pathlib
import re
import subprocess

import yaml

from paths import ROOT
from processes import Process, StepFailed, free_port, http_status, module_dir, run, tool, wait_until


class Registry:
    def __init__(self, workdir: pathlib.Path):
        self.dir = workdir / "registry"
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"

    def start(self, processes: list[Process]):
        self.dir.mkdir()
        config = self.dir / "config.yaml"
        config.write_text(yaml.safe_dump({
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.dir / "storage")}, "delete": {"enabled": True}},
            "http": {"addr": self.address, "debug": {"addr": ""}},
        }))
        process = Process("registry", [tool("registry"), "serve", str(config)], self.dir,
                          env={"OTEL_TRACES_EXPORTER": "none"})
        processes.append(process)
        wait_until("the registry's /v2/", lambda: http_status(f"http://{self.address}/v2/") == 200, 30,
                   watch=processes, blame=process)

    def push_pause_image(self) -> str:
        """Kubernetes' pause, compiled statically from build/pause/linux/pause.c of the cluster's
        version as its Makefile does, pushed as <registry>/pause:<its TAG>."""
        source = module_dir("k8s.io/kubernetes", os.environ["KUBERNETES_VERSION"]) / "build" / "pause"
        tag = re.search(r"^TAG \?= (\S+)", (source / "Makefile").read_text(), re.MULTILINE)
        if not tag:
            raise StepFailed(f"{source / 'Makefile'}: no `TAG ?=` line")
        binary = self.dir / "pause"
        run(["gcc", "-Os", "-Wall", "-Werror", "-static", f"-DVERSION=v{tag[1]}", "-o", str(binary),
             str(source / "linux" / "pause.c")], "the pause binary")
        ref = f"{self.address}/pause:{tag[1]}"
        push_image(binary, "65535:65535", None, [ref])
        return ref


def push_image(binary: pathlib.Path, user: str, port: int | None, refs: list[str]):
    """scripts/push-image, the image writer the project's push path uses."""
    result = subprocess.run([str(ROOT / "scripts" / "push-image"), str(binary), user, str(port or "-"), *refs],
                            capture_output=True, text=True, env={**os.environ, "REGISTRY_PLAIN_HTTP": "true"})
    if result.returncode != 0:
        raise StepFailed(f"scripts/push-image {binary} {' '.join(refs)}: {result.stderr.strip()}")


def crane(*args: str) -> bytes:
    """go-containerregistry's crane against the cluster's registry (plain HTTP)."""
    return subprocess.run([tool("crane"), "--insecure", *args], capture_output=True, check=True).stdout
