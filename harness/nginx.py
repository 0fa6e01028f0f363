"""Running nginx as the harnesses do: as a foreground process whose files (pid, logs, temp
folders) stay in one work folder, from a configuration written there; and nginx as a reverse
proxy in front of one upstream, switched to another by a reload (the rolling update)."""

import os
import pathlib
import subprocess


def nginx_command(workdir: pathlib.Path, config: pathlib.Path, *extra: str) -> list[str]:
    """nginx with its prefix in `workdir` and `config`, in the foreground (`daemon off;`,
    unless the configuration says so itself); `extra` (such as `-t` or `-s reload`) follows.
    `NGINX` names the binary (default: the one on PATH)."""
    command = [os.environ.get("NGINX", "nginx"), "-p", str(workdir), "-c", str(config)]
    if "daemon off;" not in config.read_text():
        command += ["-g", "daemon off;"]
    return command + list(extra)


PROXY_CONF = """
worker_processes 1;
error_log {workdir}/error.log warn;
pid {workdir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  access_log off;
  upstream site {{ server 127.0.0.1:{upstream}; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://site;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


def proxy(workdir: pathlib.Path, port: int, upstream: int, reload: bool = False):
    """nginx on 127.0.0.1:`port` proxying to 127.0.0.1:`upstream` over kept-alive HTTP/1.1:
    started (its process returned), or with `reload` the running one switched to `upstream`."""
    conf = workdir / "nginx.conf"
    conf.write_text(PROXY_CONF.format(workdir=workdir, port=port, upstream=upstream))
    if reload:
        subprocess.run(nginx_command(workdir, conf, "-s", "reload"), check=True)
        return None
    return subprocess.Popen(nginx_command(workdir, conf))
