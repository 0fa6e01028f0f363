"""Runs one leg of a GitHub Actions container job on this machine, as a runner would, without
Docker: a `debian:<suite>` root made by debootstrap (minbase, what the image holds), `/proc`,
`/sys` and `/dev` mounted as `--privileged` gives them, the job's `run:` steps executed in it as
root with the job's environment, and its `uses:` steps done the way each action does them:

- actions/checkout: a depth-1 fetch of one commit into the workspace: `--commit`, or else the
  working tree's tracked and new files committed on top of HEAD (outside any branch), so what
  is tested is what a push of them would be;
- dtolnay/rust-toolchain: rustup-init from static.rust-lang.org (the binary sh.rustup.rs
  fetches), then `rustup toolchain install` with the step's components and targets;
- actions/setup-go: the machine's own Go, if its version matches `go-version`, copied into the
  root (actions/setup-go downloads the same release from go.dev, which is not reachable here);
- actions/upload-artifact: the files copied out, next to the log.

Nothing else is installed into the root: a step that needs a tool must install it, as on
GitHub. Everything is torn down at the end (processes in the root, mounts, the root itself).

    python -m harness.workflow_job .github/workflows/CI.yaml test --leg "Debian rustc-web"
"""

import argparse
import contextlib
import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml

from harness import log
from harness.workspace import ROOT

MIRROR = "http://deb.debian.org/debian"
WORKSPACE = "/__w/hello-world/hello-world"
TEMP = "/__w/_temp"
HOME = "/github/home"
# What `docker run debian:bookworm` starts with, and what the runner adds to every container job.
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": HOME,
    "CI": "true",
    "GITHUB_ACTIONS": "true",
    "GITHUB_WORKSPACE": WORKSPACE,
    "RUNNER_OS": "Linux",
    "RUNNER_TEMP": TEMP,
    "RUNNER_TOOL_CACHE": "/__t",
    "GITHUB_ENV": f"{TEMP}/_runner_file_commands/env",
    "GITHUB_PATH": f"{TEMP}/_runner_file_commands/path",
    "GITHUB_OUTPUT": f"{TEMP}/_runner_file_commands/output",
    "GITHUB_STEP_SUMMARY": f"{TEMP}/_runner_file_commands/summary",
}


MACHINE_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
MACHINE_CA_IN_ROOT = "/etc/ssl/machine-ca-certificates.crt"


def machine_network_env() -> dict[str, str]:
    """The machine's variables that name its CA bundle (SSL_CERT_FILE, PIP_CERT,
    NODE_EXTRA_CA_CERTS, ...), pointed at the copy in the root; npm's cafile likewise."""
    named = {k: MACHINE_CA_IN_ROOT for k, v in os.environ.items() if v == MACHINE_CA_BUNDLE}
    return {**named, "npm_config_cafile": MACHINE_CA_IN_ROOT} if named else {}


class JobFailed(Exception):
    """The job cannot run here, or one of its steps failed; the message names which."""


def evaluate(text: str, context: dict) -> str:
    """`${{ ... }}` expressions in `text`: context lookups (`matrix.wasm`,
    `strategy.job-index`), string literals, `==`, `!=`, `&&` and `||`, as GitHub evaluates them."""

    def one(match: re.Match) -> str:
        expression = match.group(1).strip()
        python = re.sub(
            r"\b(matrix|strategy|github|env|runner)\.([\w-]+)",
            lambda m: repr(context.get(m.group(1), {}).get(m.group(2), "")),
            expression,
        )
        python = python.replace("&&", " and ").replace("||", " or ")
        if re.search(r"[A-Za-z_]\w*\(", python):
            raise JobFailed(f"cannot evaluate ${{{{ {expression} }}}} here")
        value = eval(python, {"__builtins__": {}}, {})  # only literals and operators remain
        if value is None or value is False:
            return ""
        return "true" if value is True else str(value)

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def pick_leg(job: dict, leg: str | None) -> dict:
    legs = job.get("strategy", {}).get("matrix", {}).get("include", [{}])
    if leg is None:
        if len(legs) > 1:
            raise JobFailed(f"the job has {len(legs)} legs; name one with --leg")
        return legs[0]
    chosen = [m for m in legs if any(leg in str(v) for v in m.values())]
    if len(chosen) != 1:
        raise JobFailed(f"--leg {leg!r} matches {len(chosen)} of the job's legs: {legs}")
    return chosen[0]


class Root:
    """A debootstrapped `debian:<suite>` with what `docker run --privileged` mounts."""

    def __init__(self, image: str, parent: pathlib.Path):
        name, _, suite = image.partition(":")
        if name != "debian" or not suite:
            raise JobFailed(f"container {image!r}: only debian:<suite> images can be built here")
        self.suite = suite
        self.path = pathlib.Path(tempfile.mkdtemp(prefix="workflow-root.", dir=parent))
        self.mounts: list[pathlib.Path] = []

    def build(self) -> None:
        log.step(f"debootstrap --variant=minbase {self.suite} (the debian:{self.suite} image's contents)")
        run(["debootstrap", "--variant=minbase", self.suite, str(self.path), MIRROR], quiet=True)
        # The image's sources (deb822, with updates and security) and an empty package index:
        # a job must `apt-get update` as it must on GitHub.
        (self.path / "etc/apt/sources.list").unlink(missing_ok=True)
        (self.path / "etc/apt/sources.list.d/debian.sources").write_text(
            f"Types: deb\nURIs: {MIRROR}\nSuites: {self.suite} {self.suite}-updates\nComponents: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
            f"Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: {self.suite}-security\n"
            "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        )
        for index in (self.path / "var/lib/apt/lists").glob("*_*"):
            index.unlink()
        # apt downloads as _apt into these, as in the image.
        apt_user = next(
            line.split(":") for line in (self.path / "etc/passwd").read_text().splitlines() if line.startswith("_apt:")
        )
        for partial in ("var/lib/apt/lists/partial", "var/cache/apt/archives/partial"):
            (self.path / partial).mkdir(parents=True, exist_ok=True)
            os.chown(self.path / partial, int(apt_user[2]), 0)
            (self.path / partial).chmod(0o700)
        # What Docker writes into every container.
        shutil.copy("/etc/resolv.conf", self.path / "etc/resolv.conf")
        # This machine's network: its registries are reached through a proxy whose CA only the
        # machine's bundle holds. Its certificates go where the job's own ca-certificates
        # package adds local ones to the system store (Debian's cargo and Go read that), and the
        # bundle goes where no package writes, for the variables that name it (pip, npm, curl).
        self.inside(MACHINE_CA_IN_ROOT).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(MACHINE_CA_BUNDLE, self.inside(MACHINE_CA_IN_ROOT))
        local = self.inside("/usr/local/share/ca-certificates/machine")
        local.mkdir(parents=True, exist_ok=True)
        pem = pathlib.Path(MACHINE_CA_BUNDLE).read_text()
        for number, block in enumerate(
            re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pem, re.S)
        ):
            (local / f"{number:03}.crt").write_text(block + "\n")
        (self.path / "etc/hosts").write_text("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
        for folder in (WORKSPACE, TEMP + "/_runner_file_commands", HOME, "/__t"):
            self.inside(folder).mkdir(parents=True, exist_ok=True)
        # A container's root is a mount point; a folder is not, and programs that look up the
        # mount of a path (the kubelet, for its root directory) find none. So the root is
        # bind-mounted onto itself first, as the container runtime mounts its overlay.
        run(["mount", "--bind", str(self.path), str(self.path)])
        self.mounts.append(self.path)
        run(["mount", "-t", "proc", "proc", str(self.inside("/proc"))])
        self.mounts.append(self.inside("/proc"))
        for shared in ("/sys", "/dev"):
            run(["mount", "--rbind", shared, str(self.inside(shared))])
            run(["mount", "--make-rslave", str(self.inside(shared))])
            self.mounts.append(self.inside(shared))

    def inside(self, path: str) -> pathlib.Path:
        return self.path / path.lstrip("/")

    def processes(self) -> list[int]:
        found = []
        for entry in pathlib.Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.readlink(entry / "root") == str(self.path):
                        found.append(int(entry.name))
                except OSError:
                    pass
        return found

    def tear_down(self, keep: bool) -> None:
        """What stopping the container does: every process in it ends, every mount goes."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 10
            while self.processes() and time.monotonic() < deadline:
                time.sleep(0.2)
        for where in reversed(self.mounts):
            subprocess.run(["umount", "-R", str(where)], check=False)
        mounts = pathlib.Path("/proc/mounts").read_text().splitlines()
        still = [line.split()[1] for line in mounts if line.split()[1].startswith(str(self.path))]
        if still:
            raise JobFailed(f"still mounted after the job: {still}")
        if keep:
            log.step(f"kept the root at {self.path}")
        else:
            shutil.rmtree(self.path)


def run(argv: list[str], quiet: bool = False, **kwargs) -> None:
    result = subprocess.run(argv, capture_output=quiet, text=True, **kwargs)
    if result.returncode != 0:
        raise JobFailed(f"{shlex.join(argv)} failed ({result.returncode})" + (f":\n{result.stderr}" if quiet else ""))


class Job:
    def __init__(self, root: Root, env: dict[str, str], context: dict, out: pathlib.Path, commit: str):
        self.root, self.env, self.context, self.out, self.commit = root, env, context, out, commit
        self.path_prepend: list[str] = []

    def environment(self, step_env: dict | None) -> dict[str, str]:
        env = {**BASE_ENV, **machine_network_env(), **self.env}
        env.update({k: evaluate(str(v), self.context) for k, v in (step_env or {}).items()})
        env["PATH"] = ":".join([*reversed(self.path_prepend), env["PATH"]])
        return env

    def shell(self, script: str, step_env: dict | None = None, timeout: float | None = None) -> int:
        """A `run:` step: `bash -e {0}` in the workspace, as GitHub runs one without `shell:`."""
        commands = self.root.inside(TEMP + "/_runner_file_commands")
        for name in ("env", "path", "output", "summary"):
            (commands / name).write_text("")
        step = self.root.inside(TEMP) / "step.sh"
        step.write_text(script)
        status = subprocess.run(
            [
                "/usr/sbin/chroot",
                str(self.root.path),
                "/bin/bash",
                "-c",
                'cd "$GITHUB_WORKSPACE" && exec bash -e "$0"',
                f"{TEMP}/step.sh",
            ],
            env=self.environment(step_env),
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        ).returncode
        # What the step asked the runner to keep for the steps after it.
        for line in (commands / "path").read_text().splitlines():
            if line.strip():
                self.path_prepend.append(line.strip())
        self.env.update(parse_env_file((commands / "env").read_text()))
        return status

    def checkout(self, _with: dict) -> int:
        commit = self.commit
        log.step(f"checkout: {commit[:12]}, depth 1")
        workspace = self.root.inside(WORKSPACE)
        upload_pack = "git -c uploadpack.allowAnySHA1InWant=true upload-pack"
        for argv in (
            ["git", "init", "-q", "-b", "main", str(workspace)],
            [
                "git",
                "-C",
                str(workspace),
                "fetch",
                "-q",
                "--depth=1",
                f"--upload-pack={upload_pack}",
                f"file://{ROOT}",
                f"+{commit}:refs/remotes/origin/main",
            ],
            ["git", "-C", str(workspace), "checkout", "-q", "--force", "-B", "main", "refs/remotes/origin/main"],
        ):
            run(argv, quiet=True)
        return 0

    def rust_toolchain(self, uses: str, inputs: dict) -> int:
        toolchain = inputs.get("toolchain") or uses.partition("@")[2]
        flags = [f"--target {t}" for t in re.split(r"[,\s]+", inputs.get("targets", "")) if t]
        flags += [f"--component {c}" for c in re.split(r"[,\s]+", inputs.get("components", "")) if c]
        log.step(f"rust-toolchain: rustup toolchain install {toolchain} {' '.join(flags)}")
        script = f"""
            export CARGO_HOME="${{CARGO_HOME:-$HOME/.cargo}}"
            if ! command -v rustup >/dev/null; then
              curl --proto '=https' --tlsv1.2 --retry 10 --location --silent --show-error --fail \\
                -o "$RUNNER_TEMP/rustup-init" https://static.rust-lang.org/rustup/dist/x86_64-unknown-linux-gnu/rustup-init
              chmod +x "$RUNNER_TEMP/rustup-init"
              "$RUNNER_TEMP/rustup-init" --default-toolchain none -y --no-modify-path
              echo "$CARGO_HOME/bin" >> "$GITHUB_PATH"
              export PATH="$CARGO_HOME/bin:$PATH"
            fi
            rustup toolchain install {shlex.quote(toolchain)} {" ".join(flags)} --profile minimal --no-self-update
            rustup default {shlex.quote(toolchain)}
            echo CARGO_HOME="$CARGO_HOME" >> "$GITHUB_ENV"
            echo CARGO_INCREMENTAL=0 >> "$GITHUB_ENV"
            echo CARGO_TERM_COLOR=always >> "$GITHUB_ENV"
            rustc --version --verbose
        """
        return self.shell(script)

    def setup_go(self, inputs: dict) -> int:
        wanted = str(inputs.get("go-version", ""))
        goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True).stdout.strip()
        version = (
            subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True).stdout.strip().removeprefix("go")
        )
        series = wanted.removesuffix(".x")
        matches = version.startswith(series + ".") if wanted.endswith(".x") else version == wanted
        if not goroot or not matches:
            raise JobFailed(f"setup-go asks for Go {wanted!r}; this machine's Go is {version or 'missing'}")
        target = f"/__t/go/{version}/x64"
        log.step(f"setup-go: Go {version} (this machine's) at {target}")
        shutil.copytree(goroot, self.root.inside(target), symlinks=True)
        self.path_prepend += [f"{HOME}/go/bin", f"{target}/bin"]
        return 0

    def upload_artifact(self, inputs: dict) -> int:
        for path in str(inputs.get("path", "")).split():
            source = self.root.inside(WORKSPACE) / evaluate(path, self.context)
            if source.exists():
                shutil.copy(source, self.out / source.name)
                log.step(f"upload-artifact: {source.name} -> {self.out / source.name}")
        return 0

    def step(self, step: dict, timeout: float) -> int:
        if "run" in step:
            return self.shell(evaluate(step["run"], self.context), step.get("env"), timeout)
        uses = step["uses"]
        action, _, _ = uses.partition("@")
        inputs = {k: evaluate(str(v), self.context) for k, v in (step.get("with") or {}).items()}
        if action == "actions/checkout":
            return self.checkout(inputs)
        if action == "dtolnay/rust-toolchain":
            return self.rust_toolchain(uses, inputs)
        if action == "actions/setup-go":
            return self.setup_go(inputs)
        if action == "actions/upload-artifact":
            return self.upload_artifact(inputs)
        raise JobFailed(f"no emulation of {uses} here")


def parse_env_file(text: str) -> dict[str, str]:
    """GITHUB_ENV's two forms: NAME=value lines and NAME<<DELIMITER blocks."""
    env, lines = {}, iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for more in lines:
                if more == delimiter:
                    break
                value.append(more)
            env[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            env[name] = value
    return env


def git_output(*args: str, env: dict | None = None) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()


def commit_of_working_tree() -> str:
    """HEAD, or a commit on top of it that holds the working tree's tracked and new files."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "GIT_INDEX_FILE": f"{scratch}/index"}

        def git(*args: str) -> str:
            return git_output(*args, env=env)

        git("read-tree", "HEAD")
        git("add", "-A")
        tree = git("write-tree")
        if tree == git("rev-parse", "HEAD^{tree}"):
            return git("rev-parse", "HEAD")
        return git(
            "commit-tree",
            tree,
            "-p",
            "HEAD",
            "-m",
            "the working tree (test:workflow)",
            env={
                **env,
                "GIT_AUTHOR_NAME": "test:workflow",
                "GIT_AUTHOR_EMAIL": "test@localhost",
                "GIT_COMMITTER_NAME": "test:workflow",
                "GIT_COMMITTER_EMAIL": "test@localhost",
            },
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflow", type=pathlib.Path)
    parser.add_argument("job")
    parser.add_argument("--leg", help="a matrix leg: text that one of its values contains")
    parser.add_argument(
        "--out", type=pathlib.Path, default=ROOT / "target" / "workflow", help="where logs and artifacts go"
    )
    parser.add_argument(
        "--commit", help="check out this commit (and read the workflow from it) instead of the working tree"
    )
    parser.add_argument("--keep", action="store_true", help="keep the root for a look afterwards")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise JobFailed("the job runs as root in a chroot: run this as root")
    if args.commit:
        args.commit = git_output("rev-parse", "--verify", f"{args.commit}^{{commit}}")
        workflow = git_output("show", f"{args.commit}:{args.workflow.resolve().relative_to(ROOT)}")
    else:
        workflow = args.workflow.read_text()
    job = yaml.safe_load(workflow)["jobs"][args.job]
    matrix = pick_leg(job, args.leg)
    legs = job.get("strategy", {}).get("matrix", {}).get("include", [matrix])
    context = {"matrix": matrix, "strategy": {"job-index": legs.index(matrix)}, "runner": {"os": "Linux"}}
    container = job.get("container")
    image = container if isinstance(container, str) else (container or {}).get("image")
    if not image:
        raise JobFailed(f"job {args.job} runs on the runner itself, not in a container: nothing to build here")
    args.out.mkdir(parents=True, exist_ok=True)
    env = {k: evaluate(str(v), context) for k, v in (job.get("env") or {}).items()}
    root = Root(image, pathlib.Path(os.environ.get("TMPDIR", "/var/tmp")))
    started, failed = time.monotonic(), None
    deadline = started + 60 * float(job.get("timeout-minutes", 360))
    try:
        root.build()
        runner = Job(root, env, context, args.out, args.commit or commit_of_working_tree())
        for number, step in enumerate(job["steps"], 1):
            name = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
            condition = str(step.get("if", "success()"))
            if condition not in ("success()", "failure()", "always()"):
                raise JobFailed(f"step {number} ({name}): cannot evaluate `if: {condition}` here")
            if condition != "always()" and (condition == "failure()") != (failed is not None):
                log.step(f"step {number} skipped ({condition}): {name}")
                continue
            log.step(f"step {number}: {name}")
            try:
                status = runner.step(step, timeout=deadline - time.monotonic())
            except subprocess.TimeoutExpired:
                status = f"the job's timeout-minutes ({job.get('timeout-minutes', 360)})"
            if status != 0 and failed is None:
                failed = f"step {number} ({name}) failed: {status}"
                log.step(failed)
    finally:
        root.tear_down(args.keep)
    minutes = (time.monotonic() - started) / 60
    if failed:
        raise JobFailed(f"job {args.job} [{args.leg or 'the only leg'}] failed after {minutes:.1f} min: {failed}")
    log.step(f"job {args.job} [{args.leg or 'the only leg'}] passed in {minutes:.1f} min")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except JobFailed as error:
        print(f"test:workflow: {error}", file=sys.stderr)
        sys.exit(1)
