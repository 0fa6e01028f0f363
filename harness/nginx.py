"""Running nginx as the harnesses do: as a foreground process whose files (pid, logs, temp
folders) stay in one work folder, from a configuration written there."""

import os
import pathlib


def nginx_command(workdir: pathlib.Path, config: pathlib.Path, *extra: str) -> list[str]:
    """nginx with its prefix in `workdir` and `config`, in the foreground (`daemon off;`,
    unless the configuration says so itself); `extra` (such as `-t` or `-s reload`) follows.
    `NGINX` names the binary (default: the one on PATH)."""
    command = [os.environ.get("NGINX", "nginx"), "-p", str(workdir), "-c", str(config)]
    if "daemon off;" not in config.read_text():
        command += ["-g", "daemon off;"]
    return command + list(extra)
