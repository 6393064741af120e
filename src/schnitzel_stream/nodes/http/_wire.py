"""What ``http_sink`` puts on the wire: request bodies and idempotency keys.

**One packet per request** (``batch_max: 1``): the body is the packet's payload (or the
whole packet, ``body: packet``) as JSON, and the ``Idempotency-Key`` header carries its
``idempotency_key``. A key that is not a short line of printable ASCII is sent
percent-encoded, and one longer than :data:`MAX_HEADER_KEY` as ``sha256-<64 hex digits>`` of
the key, so the header always fits a server's limits (nginx refuses a request whose header
line exceeds its 8 KiB buffer).

**A batch** (``batch_max > 1``) is one JSON object::

    {"idempotency_key": "batch-<64 hex>",
     "items": [{"idempotency_key": "<key>", "payload": <payload>}, ...]}

with ``"packet"`` instead of ``"payload"`` under ``body: packet``. Each item carries its
own key in the body, where its size is not limited; the header carries the batch key, the
SHA-256 of the item keys in order, so a retried batch has the same key and the header
stays 70 bytes whatever the batch size. A receiver de-duplicates items by their keys (a
packet redelivered after a restart may come in a different batch) and may use the batch
key to answer a retried request at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from urllib.parse import quote

__all__ = ["MAX_HEADER_KEY", "batch_body", "batch_key", "header_key"]

#: The longest key sent as it is (or percent-encoded) in a header.
MAX_HEADER_KEY = 200


def header_key(key: str) -> str:
    """``key`` as a header value that any server accepts and that is stable for the same key."""
    if key.isascii() and key.isprintable() and key == key.strip() and len(key) <= MAX_HEADER_KEY:
        return key
    quoted = quote(key, safe="")
    if len(quoted) <= MAX_HEADER_KEY:
        return quoted
    return "sha256-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def batch_key(keys: Sequence[str]) -> str:
    """The key of a batch: derived from its items' keys, in order."""
    digest = hashlib.sha256(json.dumps(list(keys)).encode("ascii"))
    return "batch-" + digest.hexdigest()


def batch_body(keys: Sequence[str], bodies: Sequence[bytes], field: str) -> tuple[bytes, str]:
    """The request body of a batch and its key; ``bodies`` are the items' JSON, ready encoded."""
    key = batch_key(keys)
    name = b'"' + field.encode("ascii") + b'":'
    items = b",".join(
        b'{"idempotency_key":' + json.dumps(item_key).encode("ascii") + b"," + name + body + b"}"
        for item_key, body in zip(keys, bodies, strict=True)
    )
    return b'{"idempotency_key":"' + key.encode("ascii") + b'","items":[' + items + b"]}", key
