"""The ``http_sink`` config schema: the only source of the node's part of ``graph.schema.json``.

Plain data, nothing imported: ``validate`` reads it through the registry without sockets or ssl.
"""

from __future__ import annotations

from typing import Any

from schnitzel_stream.nodes._delivery import ON_FAILURE_CHOICES, ON_FAILURE_DESCRIPTION

DEFAULT_RETRY_ON_STATUS: tuple[int, ...] = (408, 425, 429, 500, 502, 503, 504)
#: 4xx answers that refuse the packet itself (not the configuration): dead letters behind a queue.
DEFAULT_REJECT_STATUS = (400, 409, 410, 413, 422)
_ENV_NAME = "^[A-Za-z_][A-Za-z0-9_]*$"


SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "http_sink config",
    "description": (
        "POST (or PUT) each packet, or a batch of packets, as JSON to an HTTP endpoint, with retries, "
        "a retry budget and an explicit policy for packets that cannot be delivered."
    ),
    "additionalProperties": False,
    "anyOf": [{"required": ["url"]}, {"required": ["url_from_env"]}],
    "properties": {
        "url": {
            "type": "string",
            "title": "Endpoint URL",
            "description": (
                "http:// or https:// URL. Credentials in it (https://user:pass@host) are sent as basic "
                "auth and masked in every log line, metric and error."
            ),
            "pattern": "^(https?://|\\$\\{)",
            "examples": ["https://events.example.com/ingest"],
        },
        "url_from_env": {
            "type": "string",
            "title": "Endpoint URL from the environment",
            "description": (
                "Name of an environment variable holding the URL. When it is set and not empty it wins "
                "over 'url'. The whole URL is then treated as a secret (webhook URLs carry tokens in "
                "their path): logs show only scheme, host and port."
            ),
            "pattern": _ENV_NAME,
            "examples": ["BACKEND_URL"],
        },
        "method": {
            "enum": ["POST", "PUT"],
            "title": "HTTP method",
            "description": "Request method.",
            "default": "POST",
            "examples": ["POST", "PUT"],
        },
        "timeout_sec": {
            "type": "number",
            "exclusiveMinimum": 0,
            "title": "Request deadline (s)",
            "description": (
                "The whole of one request attempt: connecting (TCP and TLS), sending the body and "
                "reading the whole answer. A backend that answers slowly, trickles its body or never "
                "finishes it is cut off at this deadline and the attempt counts as a timeout."
            ),
            "default": 3.0,
            "examples": [3.0],
        },
        "connect_timeout_sec": {
            "type": ["number", "null"],
            "exclusiveMinimum": 0,
            "title": "Connect deadline (s)",
            "description": (
                "The connect part of an attempt (TCP and TLS), within 'timeout_sec'. null: only "
                "'timeout_sec' bounds it."
            ),
            "default": None,
            "examples": [1.0],
        },
        "body": {
            "enum": ["payload", "packet"],
            "title": "Body",
            "description": (
                "'payload' sends packet.payload as JSON; 'packet' sends the whole packet "
                "(packet_id, ts, kind, source_id, payload, meta)."
            ),
            "default": "payload",
            "examples": ["payload", "packet"],
        },
        "headers": {
            "type": "object",
            "title": "Extra headers",
            "description": (
                "Literal request headers. Values of headers whose names look secret (Authorization, "
                "*token*, *key*, ...) are masked in logs; prefer 'headers_from_env' for secrets."
            ),
            "additionalProperties": {"type": "string"},
            "default": {},
            "examples": [{"X-Site": "north-gate"}],
        },
        "headers_from_env": {
            "type": "object",
            "title": "Headers from the environment",
            "description": (
                "Header name to the name of an environment variable holding its value, so tokens never "
                "sit in the graph. The values are registered as secrets and masked everywhere. A "
                "variable that is not set stops the node from starting; one set to an empty value "
                "sends no such header."
            ),
            "additionalProperties": {"type": "string", "pattern": _ENV_NAME},
            "default": {},
            "examples": [{"Authorization": "BACKEND_AUTH"}],
        },
        "idempotency_header": {
            "type": "string",
            "title": "Idempotency header",
            "description": (
                "Header that carries packet.idempotency_key, so the receiver can de-duplicate retries "
                "and redeliveries. In batch mode it carries one key for the batch, derived from the "
                "keys of its packets ('batch-' and 64 hex digits), and each packet's own key travels "
                "in the body (see docs/reliability.md, 'HTTP wire format'). Empty disables it."
            ),
            "default": "Idempotency-Key",
            "examples": ["Idempotency-Key", "X-Request-Id", ""],
        },
        "retry_max_attempts": {
            "type": "integer",
            "minimum": 0,
            "title": "Attempts per request",
            "description": (
                "Total attempts per request, the first included. 0 retries forever (useful behind "
                "a durable queue)."
            ),
            "default": 3,
            "examples": [3, 0],
        },
        "retry_backoff_sec": {
            "type": "number",
            "minimum": 0,
            "title": "Backoff base (s)",
            "description": "Exponential backoff base: retry n waits a random time in [0, base * 2^n].",
            "default": 1.0,
            "examples": [1.0, 0.5],
        },
        "retry_backoff_max_sec": {
            "type": "number",
            "minimum": 0,
            "title": "Backoff cap (s)",
            "description": "Cap of every backoff, and of a server's Retry-After (429 and 503).",
            "default": 10.0,
            "examples": [10.0, 60.0],
        },
        "retry_on_status": {
            "type": "array",
            "items": {"type": "integer", "minimum": 100, "maximum": 599},
            "uniqueItems": True,
            "title": "Retryable statuses",
            "description": (
                "HTTP statuses that are retried. Connection errors and timeouts are always retried; "
                "any other non-2xx status is a final failure at once."
            ),
            "default": list(DEFAULT_RETRY_ON_STATUS),
            "examples": [[429, 500, 502, 503, 504]],
        },
        "retry_budget_per_sec": {
            "type": "number",
            "minimum": 0,
            "title": "Retry budget (requests/s)",
            "description": (
                "Token bucket per sink. Every retry, and every request while the backend is failing, "
                "spends a token; with none left the sink waits. An outage therefore costs at most this "
                "many requests per second. 0 disables the budget."
            ),
            "default": 5.0,
            "examples": [5.0, 0],
        },
        "forward": {
            "type": "boolean",
            "title": "Forward on success",
            "description": (
                "Pass each packet downstream after it was delivered (and only then), so that "
                "sqlite_queue_ack can acknowledge it."
            ),
            "default": False,
            "examples": [True],
        },
        "batch_max": {
            "type": "integer",
            "minimum": 1,
            "maximum": 10000,
            "title": "Batch size",
            "description": (
                "1 sends one packet per request. Above 1 every request body is a JSON object "
                '{"idempotency_key": ..., "items": [{"idempotency_key": ..., "payload" or "packet": ...}]} '
                "with up to this many packets."
            ),
            "default": 1,
            "examples": [1, 500],
        },
        "batch_linger_ms": {
            "type": "number",
            "minimum": 0,
            "title": "Batch linger (ms)",
            "description": (
                "How long a packet waits for its batch to fill before the batch is sent: checked on "
                "every packet and, while none comes, on the engine's idle tick (about every 0.1 s). "
                "When the input ends the batch is sent at once."
            ),
            "default": 200,
            "examples": [200, 50],
        },
        "on_failure": {
            "enum": list(ON_FAILURE_CHOICES),
            "title": "On final failure",
            "description": ON_FAILURE_DESCRIPTION,
            "default": "auto",
            "examples": ["auto", "error", "dead_letter"],
        },
        "reject_status": {
            "type": "array",
            "items": {"type": "integer", "minimum": 400, "maximum": 499},
            "uniqueItems": True,
            "title": "Statuses that reject a packet",
            "description": (
                "4xx answers that mean the receiver refused this packet's content, so retrying can "
                "never succeed; behind a queue such packets go to the dead letters (on_failure auto). "
                "Only the application's own answer counts, that is one with a JSON body "
                "(Content-Type application/json or +json): a proxy's error page (nginx's 400 or 413 "
                "in HTML) is handled like a transient failure, so it never dead-letters valid events. "
                "A rejected batch is split and its halves sent again, down to the single packets the "
                "receiver refuses. Other 4xx answers (401, 403, 404, ...) point at the configuration, "
                "not the packet, and are handled like a transient failure."
            ),
            "default": list(DEFAULT_REJECT_STATUS),
            "examples": [[400, 409, 410, 413, 422], [400, 422]],
        },
        "max_response_bytes": {
            "type": "integer",
            "minimum": 0,
            "title": "Response read cap (bytes)",
            "description": "At most this much of a response body is read; the rest is discarded unread.",
            "default": 65536,
            "examples": [65536],
        },
        "verify_tls": {
            "type": ["boolean", "string"],
            "title": "Verify TLS",
            "description": "true, false, or the path of a CA bundle to verify the server against.",
            "default": True,
            "examples": [True, "/etc/schnitzel-stream/ca.pem"],
        },
    },
}
