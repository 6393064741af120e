"""The safe set of identifiers: what a node id (and anything that names a source) may hold.

Node ids appear in log lines, metrics labels, MQTT topics and idempotency keys. A bidi control
(``U+202E``) would reorder a log line on screen, and ``cam`` spelt with a Cyrillic ``a``
(``U+0430``) looks like ``cam`` while being another key. So ids are ASCII letters, digits, ``_``, ``-`` and ``.``,
start with a letter, digit or ``_``, and are at most 64 characters long: the same spirit as
the plugin allowlist, which takes dotted ASCII names only.

:func:`suggest_id` turns a refused id into the nearest safe one for a did-you-mean hint.
It sits at the package root so that node schemas (``source_id``) can use the same pattern.
"""

from __future__ import annotations

import re
import unicodedata

MAX_ID_LENGTH = 64
#: The JSON Schema pattern of a safe id (ECMA-262 and Python read it the same way).
SAFE_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$"
_SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")
_UNSAFE_CHAR = re.compile(r"[^A-Za-z0-9_.\-]")
#: Letters that look like ASCII ones but are not (NFKD leaves them alone).
_LOOK_ALIKES = str.maketrans(
    # Cyrillic, Latin and Greek letters, written as escapes so the source stays plain ASCII.
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u0261"
    "\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7\u03b1\u03bf\u03c1\u03bd\u03b9\u03c5",
    "ABEKMHOPCTXaeopcyxijsdgABEZHIKMNOPTYXaopviu",
)


def is_safe_id(text: str) -> bool:
    """True when ``text`` is in the safe set."""
    return _SAFE_ID.fullmatch(text) is not None


def first_unsafe(text: str) -> str | None:
    """The first character outside the safe set, described (``U+0430 CYRILLIC SMALL LETTER A``)."""
    found = _UNSAFE_CHAR.search(text)
    if found is None:
        return None
    char = found.group()
    code = f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}"
    shown = f"{char!r} ({code})" if char.isprintable() and not char.isspace() else code
    return f"{shown} at position {found.start() + 1}"


def suggest_id(text: str) -> str | None:
    """The nearest safe id: look-alikes and accents to ASCII, controls dropped, the rest to ``_``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LOOK_ALIKES))
    kept = "".join(
        char for char in decomposed if unicodedata.category(char) not in ("Mn", "Cf", "Cc", "Co", "Cs")
    )
    candidate = _UNSAFE_CHAR.sub("_", kept.translate(_LOOK_ALIKES)).strip("_.-")[:MAX_ID_LENGTH]
    return candidate if candidate and is_safe_id(candidate) and candidate != text else None


__all__ = ["MAX_ID_LENGTH", "SAFE_ID_PATTERN", "first_unsafe", "is_safe_id", "suggest_id"]
