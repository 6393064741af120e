"""What ``validate`` knows of ``http_sink``: its spec, without the sink's implementation.

The package's ``__init__`` imports this module eagerly and the node (``_sink``) lazily, so
reading the spec loads neither logging nor the HTTP client.
"""

from __future__ import annotations

from schnitzel_stream.nodes.base import ANY_KIND, NodeSpec
from schnitzel_stream.nodes.http._schema import SCHEMA

__all__ = ["HTTP_SINK_SPEC", "SPECS"]

HTTP_SINK_SPEC = NodeSpec(
    name="http_sink",
    target="schnitzel_stream.nodes.http:HttpJsonSink",
    roles=frozenset({"sink", "node"}),
    title="HTTP JSON sink",
    description=(
        "Deliver packets as JSON over HTTP with keep-alive, retries (full-jitter backoff, Retry-After, "
        "a retry budget), idempotency keys, optional batching and an explicit on_failure policy."
    ),
    schema=SCHEMA,
    consumes=frozenset({ANY_KIND}),
    produces=frozenset({ANY_KIND}),
    portable=True,
    blocking=True,
)

SPECS: tuple[NodeSpec, ...] = (HTTP_SINK_SPEC,)
