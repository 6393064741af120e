"""``http_sink``: packets as JSON to an HTTP endpoint.

``_spec`` is what ``validate`` reads (the spec, with ``_schema`` its config schema), ``_sink``
the node and ``_config`` its settings, ``_client`` the delivery loop (retries, backoff, the
retry budget), ``_transport`` the keep-alive connection (TLS, proxies, the total deadline)
over ``_http11`` (one request out, one answer in), and ``_wire`` the bodies and idempotency
keys on the wire. ``schnitzel_stream.nodes.http:HttpJsonSink`` is the node's published import
path; the class is imported on first use (``_lazy``), so reading the spec loads none of this.
"""

from typing import TYPE_CHECKING

from schnitzel_stream.nodes._lazy import lazy_attributes
from schnitzel_stream.nodes.http._spec import HTTP_SINK_SPEC, SPECS

if TYPE_CHECKING:
    from schnitzel_stream.nodes.http._sink import HttpJsonSink
else:
    __getattr__, __dir__ = lazy_attributes(__name__, {"HttpJsonSink": "_sink"})

__all__ = ["HTTP_SINK_SPEC", "SPECS", "HttpJsonSink"]
