"""Fetching locked wheels from a package index, checked against the lock's hashes.

The lock export pins every package with the hashes of its files. For each pinned package
the index page (the Simple API: PEP 691 JSON, or the PEP 503 HTML page of mirrors that
serve only that) lists the files; a file qualifies only when its sha256 is one of the
lock's hashes for that package and one of its wheel tags fits the target. Of those, the
one with the most preferred tag is fetched, hashed while it streams, and kept only when
the hash matches again. Nothing is chosen by name or version alone.

Downloads land in a content-addressed cache (``<cache>/sha256/<hex>/<file>``) outside any
repository; a cached file is hashed again before it is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from schnitzel_stream.deploy.lock_export import LockedPackage
from schnitzel_stream.errors import BundleError, Problem

DEFAULT_INDEX = "https://pypi.org/simple/"
_JSON = "application/vnd.pypi.simple.v1+json"
_ACCEPT = f"{_JSON}, text/html;q=0.1"
#: Seconds for each socket operation (connect, each read): a stalled index fails, a slow one does not.
_TIMEOUT = 60.0
_CHUNK = 256 * 1024
#: An index answers 5xx or drops a connection now and then: try again, a little later each time.
_ATTEMPTS = 4
_BACKOFF = 1.0
#: Called with the bytes read so far for one file.
Advance = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class IndexFile:
    """A file an index lists: its name, its URL, the sha256 and size the index states."""

    filename: str
    url: str
    sha256: str | None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Chosen:
    """The wheel picked for one locked package and one target."""

    package: LockedPackage
    filename: str
    url: str
    sha256: str


class Index:
    """HTTP(S) to a package index with the standard library (no session state to share).

    TLS trusts the system's CA store plus certifi's bundle (a dependency), as the HTTP sink
    does; ``HTTPS_PROXY``/``NO_PROXY`` work as urllib reads them.
    """

    def __init__(self) -> None:
        import ssl
        import urllib.request

        import certifi

        context = ssl.create_default_context()
        context.load_verify_locations(certifi.where())
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))

    def open(self, url: str, accept: str | None = None) -> Any:
        """The response to a GET of ``url``, again after a dropped connection, a 5xx or a 429."""
        import urllib.error
        import urllib.request

        headers = {"Accept": accept} if accept else {}
        for attempt in range(_ATTEMPTS):
            try:
                return self._opener.open(urllib.request.Request(url, headers=headers), timeout=_TIMEOUT)
            except urllib.error.HTTPError as exc:
                exc.close()
                if not (exc.code >= 500 or exc.code == 429) or attempt == _ATTEMPTS - 1:
                    raise
            except OSError:  # URLError, timeouts, resets
                if attempt == _ATTEMPTS - 1:
                    raise
            time.sleep(_BACKOFF * 2**attempt)
        raise AssertionError("unreachable")


def fetch_index_page(index: Index, index_url: str, name: str) -> list[IndexFile]:
    """The files the index lists for ``name`` (JSON when the index offers it, else HTML)."""
    url = urljoin(index_url if index_url.endswith("/") else index_url + "/", f"{canonicalize_name(name)}/")
    try:
        with index.open(url, _ACCEPT) as response:
            body = response.read()
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            page_url = response.geturl()
    except OSError as exc:
        raise BundleError(
            Problem("bundle.index", f"cannot read the index page {url}: {_reason(exc)}", hint=_OFFLINE_HINT)
        ) from None
    text = body.decode("utf-8", errors="replace")
    if content_type == _JSON:
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            raise BundleError(Problem("bundle.index", f"the index page {url} is not valid JSON")) from None
        return _files_from_json(document, page_url)
    return _files_from_html(text, page_url)


_OFFLINE_HINT = "bundle needs the package index (or --index-url of a mirror); the device itself needs none"


def _reason(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return f"{code} {getattr(exc, 'reason', '')}".strip()
    text = str(getattr(exc, "reason", None) or exc or type(exc).__name__)
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _files_from_json(document: Any, page_url: str) -> list[IndexFile]:
    files: list[IndexFile] = []
    # Yanked files stay candidates: a pin to a yanked release is still valid (PEP 592), and
    # the lock's hash decides, not the index.
    for entry in document.get("files", []) if isinstance(document, dict) else []:
        if not isinstance(entry, dict):
            continue
        hashes = entry.get("hashes")
        sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
        filename, url, size = entry.get("filename"), entry.get("url"), entry.get("size")
        if isinstance(filename, str) and isinstance(url, str):
            known = size if isinstance(size, int) and not isinstance(size, bool) else None
            files.append(IndexFile(filename, urljoin(page_url, url), sha256, known))
    return files


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.hrefs.append((self._href, "".join(self._text).strip()))
            self._href = None


def _files_from_html(text: str, page_url: str) -> list[IndexFile]:
    parser = _Anchors()
    parser.feed(text)
    files: list[IndexFile] = []
    for href, label in parser.hrefs:
        url, fragment = urldefrag(urljoin(page_url, href))
        algorithm, _, digest = fragment.partition("=")
        filename = label or url.rsplit("/", 1)[-1]
        files.append(IndexFile(filename, url, digest if algorithm == "sha256" else None))
    return files


def choose(package: LockedPackage, files: Iterable[IndexFile], tags: Sequence[Tag], target: str) -> Chosen:
    """The locked file with the most preferred tag for the target; an error when none fits."""
    allowed = {digest.removeprefix("sha256:") for digest in package.hashes}
    rank = {tag: index for index, tag in enumerate(tags)}
    best: tuple[int, IndexFile] | None = None
    locked_wheels = 0
    for file in files:
        if file.sha256 not in allowed or not file.filename.endswith(".whl"):
            continue
        try:
            name, version, _build, file_tags = parse_wheel_filename(file.filename)
        except InvalidWheelFilename:
            continue
        if canonicalize_name(name) != package.name or str(version) != package.version:
            continue
        locked_wheels += 1
        score = min((rank[tag] for tag in file_tags if tag in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, file)
    if best is None:
        what = (
            f"none of its {locked_wheels} locked wheels fits {target}"
            if locked_wheels
            else "the index lists no wheel with a hash from the lock"
        )
        raise BundleError(
            Problem(
                "bundle.no-wheel",
                f"{package.name}=={package.version}: {what}",
                line=package.line,
                hint="pick another --platform or --python, or a device this package publishes wheels for",
            )
        )
    file = best[1]
    return Chosen(package, file.filename, file.url, str(file.sha256))


def fetch(index: Index, chosen: Chosen, cache: Path | None, dest: Path, advance: Advance) -> bool:
    """Put the chosen wheel at ``dest`` with its hash checked; True when it came from the cache."""
    cached = cache / "sha256" / chosen.sha256 / chosen.filename if cache else None
    if cached is not None and cached.is_file() and _sha256_of(cached) == chosen.sha256:
        shutil.copyfile(cached, dest)
        advance(dest.stat().st_size)
        return True
    partial = dest.with_name(dest.name + ".part")
    digest = _download(index, chosen.url, partial, advance)
    if digest != chosen.sha256:
        partial.unlink(missing_ok=True)
        raise BundleError(
            Problem(
                "bundle.hash",
                f"{chosen.filename}: the downloaded file has sha256 {digest}, "
                f"but the lock allows only {', '.join(chosen.package.hashes)}",
                line=chosen.package.line,
                hint="the index or a proxy served another file: nothing was installed; try again or another index",
            )
        )
    partial.replace(dest)
    if cached is not None:
        _store(dest, cached)
    return False


def _download(index: Index, url: str, partial: Path, advance: Advance) -> str:
    digest = hashlib.sha256()
    done = 0
    try:
        with index.open(url) as response, partial.open("wb") as out:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                advance(done)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BundleError(
            Problem("bundle.download", f"cannot download {url}: {_reason(exc)}", hint=_OFFLINE_HINT)
        ) from None
    return digest.hexdigest()


def _store(path: Path, cached: Path) -> None:
    """Copy into the cache; a cache that cannot be written is only slower next time."""
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(cached.name + f".{os.getpid()}.part")
        shutil.copyfile(path, partial)
        partial.replace(cached)
    except OSError:
        return


def sha256_file(path: Path) -> str:
    return _sha256_of(path)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()
