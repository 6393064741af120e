"""A real nginx (Debian's nginx-light) with its default limits, started per test.

nginx runs in the foreground (``-g 'daemon off;'``) with a private prefix and config under a
temporary directory, on a free 127.0.0.1 port. It listens as:

- a **reverse proxy** in front of ``upstream`` (any path but ``/fast``), with keep-alive to
  the upstream; nothing is tuned, so its defaults apply: 8 KiB header buffers
  (``large_client_header_buffers 4 8k``), a 1 MiB body limit (``client_max_body_size``),
  and its own HTML error pages (400 ``Request Header Or Cookie Too Large``, 413 ...);
- ``/fast``: an answer of ``200 {}`` straight from nginx, for the benchmark, where the
  server must not be the ceiling; ``/moved``: a 301;
- ``keepalive_timeout`` is nginx's default (75 s) unless a test shortens it;
- optionally the same on a TLS port, with a certificate from :func:`make_certificates`.

Requests in absolute form (``POST http://host:port/path``) are served the same way, so the
proxy port also works as a plain HTTP forward proxy for ``http_proxy`` tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.net import free_port, wait_for_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

__all__ = ["NGINX", "Certificates", "Nginx", "make_certificates", "running_nginx"]


@dataclass(frozen=True)
class Certificates:
    """A private CA and a server certificate for 127.0.0.1 and localhost."""

    ca: Path
    cert: Path
    key: Path


@dataclass
class Nginx:
    port: int
    tls_port: int | None
    prefix: Path
    process: subprocess.Popen[bytes]

    def url(self, path: str = "/ingest", *, tls: bool = False) -> str:
        if tls:
            assert self.tls_port is not None, "nginx was started without TLS"
            return f"https://localhost:{self.tls_port}{path}"
        return f"http://127.0.0.1:{self.port}{path}"

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def make_certificates(directory: Path, names: str = "IP:127.0.0.1,DNS:localhost") -> Certificates:
    """A CA and a server certificate for ``names`` (subjectAltName) made with the openssl CLI."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr = directory / "server.pem", directory / "server.key", directory / "server.csr"
    ext = directory / "server.ext"
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
        f"subjectAltName={names}\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = ["openssl"]
    steps = [
        [
            *run, "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
            "-subj", "/CN=schnitzel-test-ca",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ],
        [*run, "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
        [
            *run, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "2", "-extfile", ext,
        ],
    ]  # fmt: skip
    for step in steps:
        subprocess.run([str(part) for part in step], check=True, capture_output=True, timeout=60)
    return Certificates(ca=ca, cert=cert, key=key)


def _config(
    prefix: Path, port: int, upstream: int, tls: tuple[int, Certificates] | None, keepalive_timeout: str
) -> str:
    temp = prefix / "temp"
    # As root the workers would drop to "nobody", who cannot enter pytest's temporary
    # directories; as anyone else the directive would only draw a warning.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    locations = """
        location = /fast {
            default_type application/json;
            return 200 '{}';
        }
        location = /moved {
            return 301 /elsewhere;
        }
        location / {
            proxy_pass http://upstream_backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    """
    servers = f"""
    server {{
        listen 127.0.0.1:{port};
        {locations}
    }}
    """
    if tls is not None:
        tls_port, certs = tls
        servers += f"""
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {certs.cert};
        ssl_certificate_key {certs.key};
        {locations}
    }}
    """
    return f"""{user}worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 512; }}
http {{
    access_log off;
    keepalive_timeout {keepalive_timeout};
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    upstream upstream_backend {{
        server 127.0.0.1:{upstream};
        keepalive 16;
    }}
    {servers}
}}
"""


@contextlib.contextmanager
def running_nginx(
    directory: Path,
    upstream_port: int,
    *,
    certificates: Certificates | None = None,
    keepalive_timeout: str = "75s",
) -> Iterator[Nginx]:
    """nginx proxying to ``127.0.0.1:upstream_port``, stopped (and checked stopped) on exit."""
    prefix = directory / "nginx"
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    port = free_port()
    tls_port = free_port() if certificates is not None else None
    tls = (tls_port, certificates) if tls_port is not None and certificates is not None else None
    conf = prefix / "nginx.conf"
    conf.write_text(_config(prefix, port, upstream_port, tls, keepalive_timeout))
    process = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"), "-g", "daemon off;"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = Nginx(port=port, tls_port=tls_port, prefix=prefix, process=process)
    try:
        try:
            wait_for_port(port, timeout=15)
            if tls_port is not None:
                wait_for_port(tls_port, timeout=15)
        except TimeoutError:
            process.kill()
            _, err = process.communicate(timeout=10)
            raise RuntimeError(
                f"nginx did not start: {err.decode(errors='replace')}\n{server.error_log()}"
            ) from None
        yield server
    finally:
        if process.poll() is None:
            process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
