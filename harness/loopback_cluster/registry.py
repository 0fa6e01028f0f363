"""The loopback cluster's OCI registries: distribution's registry (v3, built from its module) on
127.0.0.1, plain HTTP, storing in the cluster's folder. containerd pulls every image from the
cluster's own: the sandbox's pause image, built here from Kubernetes' own pause.c, and the
images the project's push path puts there (`mise-tasks/push`, scripts/push-image). A private
one, which requires a login (htpasswd, as a platform's registry does), is for the pull secret's
test (test_flux.py).
"""

import base64
import json
import os
import pathlib
import re
import subprocess

import bcrypt
import yaml

from harness.ports import free_port
from harness.processes import Process, StepFailed, http_status, run, tool, wait_until
from harness.tools import module_source
from harness.workspace import ROOT


class Registry:
    def __init__(self, workdir: pathlib.Path, name: str = "registry", login: tuple[str, str] | None = None):
        """`login`: (user, password) the registry requires of every request; none: open."""
        self.name = name
        self.dir = workdir / name
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.login = login

    def start(self, processes: list[Process]):
        self.dir.mkdir()
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.dir / "storage")}, "delete": {"enabled": True}},
            "http": {"addr": self.address, "debug": {"addr": ""}},
        }
        if self.login:
            user, password = self.login
            htpasswd = self.dir / "htpasswd"
            htpasswd.write_text(f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()}\n")
            config["auth"] = {"htpasswd": {"realm": self.name, "path": str(htpasswd)}}
        (self.dir / "config.yaml").write_text(yaml.safe_dump(config))
        process = Process(
            self.name,
            [tool("registry"), "serve", str(self.dir / "config.yaml")],
            self.dir,
            env={"OTEL_TRACES_EXPORTER": "none"},
        )
        processes.append(process)
        # /v2/ answers 200, or 401 with the challenge when a login is required.
        wait_until(
            f"the {self.name}'s /v2/",
            lambda: http_status(f"http://{self.address}/v2/") == (401 if self.login else 200),
            30,
            watch=processes,
            blame=process,
        )

    def docker_config(self) -> dict:
        """The docker config (a kubernetes.io/dockerconfigjson secret's content) that logs in."""
        user, password = self.login
        return {"auths": {self.address: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}}

    def copy_from(self, source: "Registry", repositories: list[str]):
        """`crane copy` of each `repository:tag` from `source`, logged in to this registry."""
        config = self.dir / "docker"
        config.mkdir(exist_ok=True)
        (config / "config.json").write_text(json.dumps(self.docker_config()))
        for repository in repositories:
            crane(
                "copy",
                f"{source.address}/{repository}",
                f"{self.address}/{repository}",
                env={"DOCKER_CONFIG": str(config)},
            )

    def push_pause_image(self) -> str:
        """Kubernetes' pause, compiled statically from build/pause/linux/pause.c of the cluster's
        version as its Makefile does, pushed as <registry>/pause:<its TAG>."""
        source = module_source("kubernetes") / "build" / "pause"
        tag = re.search(r"^TAG \?= (\S+)", (source / "Makefile").read_text(), re.MULTILINE)
        if not tag:
            raise StepFailed(f"{source / 'Makefile'}: no `TAG ?=` line")
        binary = self.dir / "pause"
        run(
            [
                "gcc",
                "-Os",
                "-Wall",
                "-Werror",
                "-static",
                f"-DVERSION=v{tag[1]}",
                "-o",
                str(binary),
                str(source / "linux" / "pause.c"),
            ],
            "the pause binary",
        )
        ref = f"{self.address}/pause:{tag[1]}"
        push_image(binary, "65535:65535", None, [ref])
        return ref


def push_image(binary: pathlib.Path, user: str, port: int | None, refs: list[str]):
    """scripts/push-image, the image writer the project's push path uses."""
    push_script("push-image", str(binary), user, str(port or "-"), *refs)


def push_spin_app(component: pathlib.Path, refs: list[str]):
    """scripts/push-spin-app, the Spin artifact writer the project's push path uses."""
    push_script("push-spin-app", str(component), *refs)


def push_script(script: str, *args: str):
    """One of the push path's scripts, to the cluster's plain-HTTP registry."""
    result = subprocess.run(
        [str(ROOT / "scripts" / script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "REGISTRY_PLAIN_HTTP": "true"},
    )
    if result.returncode != 0:
        raise StepFailed(f"scripts/{script} {' '.join(args)}: {result.stderr.strip()}")


def crane(*args: str, env: dict | None = None) -> bytes:
    """go-containerregistry's crane against the cluster's registries (plain HTTP)."""
    result = subprocess.run(
        [tool("crane"), "--insecure", *args], capture_output=True, env={**os.environ, **(env or {})}
    )
    if result.returncode != 0:
        raise StepFailed(f"crane {' '.join(args)}: {result.stderr.decode().strip()}")
    return result.stdout
