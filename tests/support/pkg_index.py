"""A real package index on loopback: the Simple API (PEP 691 JSON or PEP 503 HTML) over HTTP.

The bundle tests publish small wheel files into it, write a hash-pinned lock for them, and
let ``schnitzel-stream bundle`` pick and download from it, the same requests it sends to
PyPI. ``tamper`` serves other bytes than the listed hash promises, as a broken mirror or a
hostile proxy would.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

from packaging.utils import canonicalize_name, parse_wheel_filename

Style = Literal["json", "html"]


@dataclass
class PackageIndex:
    """Files by project name; ``url`` is the index's ``/simple/`` base."""

    directory: Path
    style: Style = "json"
    url: str = ""
    files: dict[str, list[Path]] = field(default_factory=dict)
    tampered: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    #: Answer this many next requests with 503, as an overloaded index does now and then.
    unavailable: int = 0

    def publish(self, filename: str, content: bytes | None = None) -> Path:
        """Add a wheel file (any bytes: the bundle never opens dependency wheels)."""
        path = self.directory / filename
        path.write_bytes(content if content is not None else f"wheel {filename}".encode())
        name = canonicalize_name(parse_wheel_filename(filename)[0])
        self.files.setdefault(name, []).append(path)
        return path

    def tamper(self, filename: str) -> None:
        self.tampered.add(filename)

    def lock_line(self, requirement: str, *filenames: str, marker: str | None = None) -> str:
        """A hash-pinned lock entry for ``requirement`` (``name==version``) over these files."""
        hashes = " ".join(f"--hash=sha256:{sha256(self.directory / name)}" for name in filenames)
        return f"{requirement}{' ; ' + marker if marker else ''} {hashes}\n"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _handler(index: PackageIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return None

        def do_GET(self) -> None:
            index.requests.append(self.path)
            if index.unavailable > 0:
                index.unavailable -= 1
                self.send_error(503)
                return
            parts = [part for part in self.path.split("/") if part]
            if len(parts) == 2 and parts[0] == "simple":
                self._page(canonicalize_name(parts[1]))
            elif len(parts) == 2 and parts[0] == "files":
                self._file(parts[1])
            else:
                self.send_error(404)

        def _page(self, name: str) -> None:
            files = index.files.get(name)
            if not files:
                self.send_error(404)
                return
            if index.style == "json":
                body = json.dumps(
                    {
                        "meta": {"api-version": "1.1"},
                        "name": name,
                        "files": [
                            {
                                "filename": path.name,
                                "url": f"../../files/{path.name}",
                                "hashes": {"sha256": sha256(path)},
                                "size": path.stat().st_size,
                            }
                            for path in files
                        ],
                    }
                ).encode()
                content_type = "application/vnd.pypi.simple.v1+json"
            else:
                links = "".join(
                    f'<a href="/files/{path.name}#sha256={sha256(path)}">{path.name}</a><br/>\n'
                    for path in files
                )
                body = f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()
                content_type = "text/html"
            self._send(body, content_type)

        def _file(self, filename: str) -> None:
            path = index.directory / filename
            if not path.is_file():
                self.send_error(404)
                return
            body = path.read_bytes()
            if filename in index.tampered:
                body = body + b" and something else"
            self._send(body, "application/octet-stream")

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serving(directory: Path, style: Style = "json") -> Iterator[PackageIndex]:
    """A package index on a free 127.0.0.1 port for the duration of the block."""
    directory.mkdir(parents=True, exist_ok=True)
    index = PackageIndex(directory, style)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(index))
    index.url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
