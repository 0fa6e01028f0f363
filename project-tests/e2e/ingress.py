"""The ingress controller of the loopback cluster: Debian's nginx, configured from the Ingress
object the way ingress-nginx configures itself with its defaults (see `nginx_config`), sending
traffic to the Service's ClusterIP, which kube-proxy's rules take on to a pod.
"""

import pathlib
import subprocess

from loopback import free_port, nginx_command
from processes import Process, StepFailed, http_status, wait_until


def nginx_config(ingress: dict, upstream: str, listen_port: int, workdir: pathlib.Path) -> str:
    """nginx.conf for `ingress`, with ingress-nginx's defaults (its ConfigMap left empty): one
    server per host rule; `location` per path, proxied to the backend's endpoints over HTTP/1.1
    with upstream keep-alive (upstream-keepalive-connections 320, timeout 60 s); the forwarded
    headers it sets; proxy-buffering "off" and request buffering on; 60 s proxy timeouts;
    large-client-header-buffers "4 8k"; no gzip (use-gzip false); server-tokens off. TLS is left
    out: the suite speaks plain HTTP, as the pod does behind the controller. `upstream` is
    host:port: a Service's ClusterIP and port (ingress-nginx's `service-upstream: "true"`)."""
    servers = []
    for rule in ingress["spec"]["rules"]:
        locations = []
        for path in rule["http"]["paths"]:
            locations.append(f"""
        location {path['path']} {{
            proxy_set_header Host $host;
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Scheme $scheme;
            proxy_set_header X-Scheme $scheme;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header Connection "";
            proxy_http_version 1.1;
            proxy_connect_timeout 5s;
            proxy_send_timeout 60s;
            proxy_read_timeout 60s;
            proxy_buffering off;
            proxy_buffer_size 4k;
            proxy_buffers 4 4k;
            proxy_request_buffering on;
            proxy_redirect off;
            proxy_next_upstream error timeout;
            proxy_pass http://backend;
        }}""")
        servers.append(f"""
    server {{
        listen 127.0.0.1:{listen_port};
        server_name {rule['host']};
        {''.join(locations)}
    }}""")
    return f"""
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log notice;
worker_processes 1;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log {workdir}/nginx-access.log;
    # Request bodies over the buffer go to Debian's own folder (/var/lib/nginx/body), which its
    # workers (www-data) can write; they cannot reach the test's folder, private to root.
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server_tokens off;
    gzip off;
    client_header_buffer_size 1k;
    large_client_header_buffers 4 8k;
    client_max_body_size 1m;
    keepalive_timeout 75s;
    upstream backend {{
        server {upstream};
        keepalive 320;
        keepalive_timeout 60s;
        keepalive_requests 10000;
    }}
    # ingress-nginx's default server: a request for a host no Ingress names gets 404.
    server {{
        listen 127.0.0.1:{listen_port} default_server;
        return 404;
    }}
    {''.join(servers)}
}}
"""


def run_nginx(ingress: dict, upstream: str, workdir: pathlib.Path, port: int | None = None) -> tuple[Process, int]:
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    config = workdir / "nginx.conf"
    config.write_text(nginx_config(ingress, upstream, port, workdir))
    test = subprocess.run(nginx_command(workdir, config, "-t"), capture_output=True, text=True)
    if test.returncode != 0:
        raise StepFailed(f"nginx -t: {test.stderr.strip()}")
    process = Process("nginx", nginx_command(workdir, config), workdir)
    host = ingress["spec"]["rules"][0]["host"]
    try:
        wait_until(f"nginx on :{port} answers for {host}", lambda: http_status(f"http://127.0.0.1:{port}/.healthz", host) == 200,
                   timeout=30, interval=0.1, watch=[process], blame=process)
    except StepFailed:
        process.stop()
        raise
    return process, port


def run_ingress(cluster, namespace: str, app: str, workdir: pathlib.Path, port: int | None = None) -> tuple[Process, int, str]:
    """nginx as the app's Ingress says, sending traffic to the ClusterIP of the Service its rule
    names (kube-proxy takes it on to a pod); returns the process, nginx's port and the host."""
    ingress = cluster.get("ingress", app, namespace=namespace)
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = cluster.get("service", backend["name"], namespace=namespace)
    proxy, port = run_nginx(ingress, f"{service['spec']['clusterIP']}:{backend['port']['number']}", workdir, port)
    return proxy, port, ingress["spec"]["rules"][0]["host"]
