"""``http_sink``: packets as JSON to an HTTP endpoint.

``_sink`` is the node, ``_schema`` its config schema and ``_config`` its settings,
``_client`` the delivery loop (retries, backoff, the retry budget), ``_transport`` the
keep-alive connection (TLS, proxies, the total deadline) over ``_http11`` (one request out,
one answer in), and ``_wire`` the bodies and idempotency keys on the wire.
``schnitzel_stream.nodes.http:HttpJsonSink`` is the node's published import path.
"""

from schnitzel_stream.nodes.http._sink import HTTP_SINK_SPEC, SPECS, HttpJsonSink

__all__ = ["HTTP_SINK_SPEC", "SPECS", "HttpJsonSink"]
