"""``doctor --network``: do the camera, backend and broker of a deployment answer?

The endpoints come from the deployment's graph, with ``url_from_env`` and ``${VAR}`` resolved
from its env file. Each is a TCP connect with a short timeout: it proves routing, DNS and
firewalls, not credentials (the nodes report those when they start).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from schnitzel_stream.deploy._check import Check
from schnitzel_stream.deploy.envfile import read_env_file
from schnitzel_stream.deploy.layout import ENV_FILE, GRAPH_FILE
from schnitzel_stream.errors import GraphError
from schnitzel_stream.redact import mask_url

#: Plugins that connect out, and the default port of each URL scheme they take.
_ENDPOINT_PLUGINS = ("rtsp_camera", "http_sink", "mqtt_sink")
_DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443, "mqtt": 1883, "mqtts": 8883}
#: What to check when each kind of endpoint does not answer.
_HINTS = {
    "rtsp_camera": "check the camera's address and port, that it is powered and on the network, and the "
    "routing and firewall from this machine; the camera node reconnects by itself once it answers",
    "http_sink": "check the backend's address, DNS, routing and firewall from this machine",
    "mqtt_sink": "check the broker's address and port, DNS, routing and firewall from this machine",
}
_QUEUED = "; behind the durable queue, events wait until it is back"


def check_network(deployment: str | None, timeout: float) -> list[Check]:
    """One check per camera, backend or broker of the deployment's graph."""
    if not deployment:
        return [
            Check("network", "skip", "no deployment given", "pass --deployment ROOT to check its endpoints")
        ]
    from schnitzel_stream.graph.interpolate import interpolate
    from schnitzel_stream.graph.load import load_document

    root = Path(deployment)
    try:
        document = load_document(str(root / GRAPH_FILE))
    except GraphError as error:
        return [
            Check("network", "fail", error.summary(), f"schnitzel-stream validate --deployment {deployment}")
        ]
    environ = read_env_file(root / ENV_FILE).as_dict()
    checks: list[Check] = []
    raw_nodes = document.data.get("nodes")
    nodes = [node for node in raw_nodes if isinstance(node, dict)] if isinstance(raw_nodes, list) else []
    # A sink fed by a durable queue loses nothing while its endpoint is away: say so in its hint.
    queued = any(node.get("plugin") == "sqlite_queue_source" for node in nodes)
    for node in nodes:
        plugin = node.get("plugin")
        if plugin not in _ENDPOINT_PLUGINS:
            continue
        name = f"{node.get('id')} ({plugin})"
        raw_config = node.get("config")
        config: Mapping[str, Any] = raw_config if isinstance(raw_config, dict) else {}
        url = _url(config, environ)
        if url is None:
            variable = config.get("url_from_env")
            checks.append(
                Check(
                    name,
                    "fail",
                    f"no URL: url_from_env names {variable!r}, which {ENV_FILE} does not set",
                    f"set {variable}=<url> in {ENV_FILE}",
                )
                if isinstance(variable, str)
                else Check(
                    name, "fail", "no URL in the graph", "set url or url_from_env in the node's config"
                )
            )
            continue
        url = str(interpolate(url, paths=None, environ=environ).value)
        hint = _HINTS[str(plugin)] + (_QUEUED if queued and plugin != "rtsp_camera" else "")
        checks.append(_probe(name, url, timeout, hint))
    return checks or [Check("network", "skip", "the graph has no camera, backend or broker")]


def _url(config: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    variable = config.get("url_from_env")
    if isinstance(variable, str) and environ.get(variable):
        return environ[variable]
    url = config.get("url")
    return url if isinstance(url, str) and url else None


def _probe(name: str, url: str, timeout: float, hint: str) -> Check:
    shown = mask_url(url)
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        host, port = None, None
    if not host or port is None:
        return Check(
            name, "fail", f"cannot read host and port from {shown}", "fix the URL in the graph or env file"
        )
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        return Check(name, "fail", f"{host}:{port} ({shown}) is not reachable: {reason}", hint)
    return Check(name, "ok", f"{host}:{port} accepts connections ({shown})")
