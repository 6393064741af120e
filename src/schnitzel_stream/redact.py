"""Masking credentials before they reach a log line, a report or an error message.

Two mechanisms, used everywhere text leaves the process:

- :func:`mask_url` hides the password (and the user name's secret part) of any URL with
  userinfo, e.g. ``rtsp://admin:hunter2@cam/stream`` becomes ``rtsp://admin:***@cam/stream``.
- :func:`register_secret` remembers values that came from env files or ``*_from_env``
  settings; :func:`redact` replaces every registered value in free text. The logging setup
  applies :func:`redact` to every record, so a secret that leaks into an exception message
  is still masked.
"""

from __future__ import annotations

import re
import threading

MASK = "***"

# A scheme starts where no scheme character precedes it: without the look-behind, a long run
# of letters is retried from each of its positions, quadratic time (a 40 kB line took 30 s).
_SCHEME = r"(?<![A-Za-z0-9+.\-])(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)"
# scheme://user:password@host  -> keep the user, hide the password.
_URL_USERINFO = re.compile(_SCHEME + r"(?P<user>[^:@/\s]*):(?P<pw>[^@/\s]*)@")
# scheme://token@host (userinfo without a colon) -> the whole userinfo may be a token.
_URL_USER_ONLY = re.compile(_SCHEME + r"(?P<user>[^:@/\s]+)@")
# Query parameters that conventionally carry secrets.
_SECRET_QUERY = re.compile(
    r"(?i)(?P<key>[?&](?:password|passwd|pwd|token|access_token|api_key|apikey|key|secret)=)[^&#\s]*"
)

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

#: Secrets shorter than this are not registered: masking "a" would shred every log line.
MIN_SECRET_LENGTH = 4


def mask_url(text: str) -> str:
    """Mask passwords in URLs (``user:pass@``), bare tokens (``token@``) and secret-looking
    query parameters."""
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _URL_USER_ONLY.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m['key']}{MASK}", text)


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
    """Register the password of a URL's userinfo, raw and percent-decoded.

    :func:`mask_url` already hides it inside a URL; registering it also hides it where a
    library repeats it on its own, e.g. in an exception message.
    """
    from urllib.parse import unquote, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return
    # A bare user name (rtsp://admin@cam) is not registered: masking "admin" in every log
    # line would shred them; mask_url() still hides it inside URLs.
    if parts.password:
        register_secret(parts.password)
        register_secret(unquote(parts.password))


def redact(text: str) -> str:
    """Mask URL credentials and every registered secret in ``text``."""
    # Registered secrets first: a secret that is a whole URL with credentials would no longer
    # match once mask_url() has rewritten its userinfo.
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return mask_url(text)
