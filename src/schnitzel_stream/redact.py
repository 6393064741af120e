"""Masking credentials before they reach a log line, a report or an error message.

This module is the one place that knows where a URL keeps its credentials:

- :func:`mask_url` hides the password (a bare token: the whole userinfo) of every URL in a
  text, e.g. ``rtsp://admin:hunter2@cam/stream`` becomes ``rtsp://admin:***@cam/stream``,
  and the values of secret-looking query parameters;
- :func:`url_passwords` finds those passwords (to register them, or to refuse a file that
  holds one); :func:`url_origin` is a URL reduced to ``scheme://host:port``, for URLs that
  are secret as a whole (webhooks with a token in their path);
- :func:`env_secrets` picks the secret values out of an env file's variables (values of
  secret-looking names, URL passwords), for registering or for finding leaks;
  :func:`register_secret` remembers values that came from env files or ``*_from_env``
  settings; :func:`redact` replaces every registered value in free text. The logging setup
  applies :func:`redact` to every record, so a secret that leaks into an exception message
  is still masked.

Userinfo is taken up to the **last** ``@``, as RFC 3986 parsers such as ``urllib.parse`` do,
because passwords typed by hand often hold an unencoded ``@`` (``user:hunter@22@host``),
and a ``/`` in a password is masked with it (see :func:`_userinfo_end`). A URL without a
scheme counts when a token starts like ``user:password@host`` (what a host field or a
hand-written camera address holds).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

__all__ = [
    "MASK",
    "SECRET_NAME",
    "env_secrets",
    "mask_url",
    "redact",
    "register_secret",
    "register_url_secrets",
    "url_origin",
    "url_passwords",
]

MASK = "***"

# A URL with a scheme, up to whitespace or a quoting character. A scheme starts where no
# scheme character precedes it: without the look-behind, a long run of letters is retried from
# each of its positions, quadratic time (a 40 kB line took 30 s).
_SCHEMED = re.compile(r"(?<![A-Za-z0-9+.\-])(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<rest>[^\s'\"<>`]*)")
# Without a scheme: a token (after whitespace, a quote, "=", "(" or ",") that starts "user:" and holds an "@".
_BARE = re.compile(r"(?<![^\s'\"<>`=(,])(?P<scheme>)(?P<rest>[^\s'\"<>`:@/]+:[^\s'\"<>`]*@[^\s'\"<>`]*)")
#: Names of variables whose values are secrets.
SECRET_NAME = re.compile(r"(?i)(PASSWORD|PASSWD|TOKEN|SECRET|AUTH|CREDENTIAL|API_?KEY|PRIVATE)")
# Query parameters that conventionally carry secrets.
_SECRET_QUERY = re.compile(
    r"(?i)(?P<key>[?&](?:password|passwd|pwd|token|access_token|api_key|apikey|key|secret)=)[^&#\s'\"()<>`]*"
)

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

#: Secrets shorter than this are not registered: masking "a" would shred every log line.
MIN_SECRET_LENGTH = 4


def _userinfo_end(rest: str) -> int:
    """Where the userinfo of ``rest`` (a URL without its scheme) ends: the index of its ``@``, or -1.

    ``user:`` followed by an ``@``: the password runs to the last ``@`` before the query, so
    an unencoded ``@`` or ``/`` in it is masked with it (an ``@`` further on in the path is
    masked too: too much rather than too little). Without a ``:`` the userinfo is a bare
    token up to the last ``@`` before the path; ``host/@user`` has none.
    """
    end = len(rest)
    for stop in "?#":
        found = rest.find(stop)
        if found != -1:
            end = min(end, found)
    last = rest.rfind("@", 0, end)
    if last == -1:
        return -1
    slash = rest.find("/", 0, end)
    head = rest[: slash if slash != -1 else end]
    if head.startswith("["):
        return -1  # an IPv6 host comes after the userinfo, never before it
    first = head.find("@")
    if first != -1:
        return last if ":" in head[:first] else head.rfind("@")
    return last if ":" in head else -1


def _split(match: re.Match[str]) -> tuple[str, str, str] | None:
    """``(scheme, userinfo, after)`` of one URL match, or None when it has no userinfo."""
    scheme, rest = match["scheme"], match["rest"]
    if not scheme and "://" in rest:
        return None  # a URL with a scheme inside the token: _SCHEMED handles it
    at = _userinfo_end(rest)
    if at <= 0:
        return None
    return scheme, rest[:at], rest[at:]


def _matches(text: str) -> list[re.Match[str]]:
    return [*_SCHEMED.finditer(text), *_BARE.finditer(text)]


def mask_url(text: str) -> str:
    """``text`` with the password of every URL in it masked (a bare token: all of it), and
    the values of secret-looking query parameters."""

    def mask(match: re.Match[str]) -> str:
        parts = _split(match)
        if parts is None:
            return match[0]
        scheme, userinfo, after = parts
        user, colon, _ = userinfo.partition(":")
        return f"{scheme}{user}:{MASK}{after}" if colon else f"{scheme}{MASK}{after}"

    if "@" in text:
        text = _BARE.sub(mask, _SCHEMED.sub(mask, text))
    return _SECRET_QUERY.sub(lambda m: f"{m['key']}{MASK}", text)


def url_passwords(text: str, *, with_scheme_only: bool = False) -> list[str]:
    """The password of every ``user:password@`` URL in ``text``, as written.

    A bare token (``rtsp://token@host``) is not listed: it may as well be a user name, and
    registering user names would shred every log line; :func:`mask_url` still hides it.
    ``with_scheme_only`` leaves out ``user:password@host`` tokens without a scheme, for
    checks that must not take ``12:30@noon`` in a file for a credential.
    """
    found: list[str] = []
    for match in _SCHEMED.finditer(text) if with_scheme_only else _matches(text):
        parts = _split(match)
        if parts is not None:
            _, colon, password = parts[1].partition(":")
            if colon and password:
                found.append(password)
    return found


def url_origin(url: str) -> str:
    """``scheme://host[:port]``: nothing of the userinfo, path or query (an IPv6 host in brackets)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"{url.partition('://')[0]}://{MASK}"
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def register_secret(value: str | None) -> None:
    """Remember a secret value so that :func:`redact` hides it from now on."""
    global _pattern
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def register_url_secrets(url: str) -> None:
    """Register the passwords in ``url`` (its userinfo), raw and percent-decoded.

    :func:`mask_url` already hides them inside a URL; registering them also hides them where
    a library repeats them on their own, e.g. in an exception message. A bare token or user
    name (``rtsp://admin@cam``) is not registered: masking "admin" in every log line would
    shred them; :func:`mask_url` still hides it inside URLs.
    """
    for password in url_passwords(url):
        register_secret(password)
        register_secret(unquote(password))


def redact(text: str) -> str:
    """Mask URL credentials and every registered secret in ``text``."""
    # Registered secrets first: a secret that is a whole URL with credentials would no longer
    # match once mask_url() has rewritten its userinfo.
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return mask_url(text)


def env_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """Secret value -> the variable that holds it, for every secret in ``env``.

    The value of a secret-looking name (:data:`SECRET_NAME`) and, for ``Bearer <token>``, the
    token alone (a library may repeat just that); the password of every URL, as written and
    percent-decoded. Values shorter than :data:`MIN_SECRET_LENGTH` are left out.
    """
    found: dict[str, str] = {}
    for name, value in env.items():
        candidates = [value, value.rpartition(" ")[2]] if SECRET_NAME.search(name) else []
        for password in url_passwords(value):
            candidates += [password, unquote(password)]
        for candidate in candidates:
            if len(candidate) >= MIN_SECRET_LENGTH:
                found.setdefault(candidate, name)
    return found
