"""``http_sink``: packets as JSON to an HTTP endpoint.

``_sink`` is the node, ``_config`` its schema and settings, ``_client`` the delivery loop
(retries, backoff, the retry budget). ``schnitzel_stream.nodes.http:HttpJsonSink`` is the
node's published import path.
"""

from schnitzel_stream.nodes.http._sink import HTTP_SINK_SPEC, SPECS, HttpJsonSink

__all__ = ["HTTP_SINK_SPEC", "SPECS", "HttpJsonSink"]
