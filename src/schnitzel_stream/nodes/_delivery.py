"""What a sink does with a packet it could not deliver: the one policy all sinks share.

Two kinds of failure:

- **transient**: the receiver was unreachable or busy (timeouts, 5xx, 429, a broker that is
  down) and the retries ran out. Trying again later can succeed.
- **permanent** (*rejected*): the receiver refused this packet itself (an HTTP 4xx other
  than 408/425/429), or the sink cannot encode it (a payload that is not JSON, a topic the
  packet cannot fill). Trying again can never succeed.

``on_failure`` chooses: ``error`` stops the graph (non-zero exit), ``drop`` counts and logs,
``keep`` does not forward the packet so the durable queue delivers it again, and
``dead_letter`` forwards it marked as rejected so that ``sqlite_queue_ack`` moves it to the
queue's dead letters (kept for the operator, never redelivered in a loop). ``auto`` (the
default) is, for a packet that came from a durable queue, ``keep`` for a transient failure
and ``dead_letter`` for a rejection, and ``drop`` for any other packet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from schnitzel_stream.packet import Packet

OnFailure = Literal["auto", "error", "drop", "keep", "dead_letter"]
Outcome = Literal["error", "drop", "keep", "dead_letter"]
ON_FAILURE_CHOICES: tuple[OnFailure, ...] = ("auto", "error", "drop", "keep", "dead_letter")

#: ``meta`` key the queue nodes use by default (``{"seq": ..., ...}``).
DURABLE_META_KEY = "durable"
#: ``meta`` key a sink sets on a packet the receiver rejected for good.
REJECTED_META_KEY = "rejected"

ON_FAILURE_DESCRIPTION = (
    "What happens to a packet that was not delivered. 'error' stops the graph (non-zero exit); "
    "'drop' counts and logs it; 'keep' does not forward it, so it stays unacknowledged and the "
    "durable queue delivers it again; 'dead_letter' forwards it marked as rejected, so that "
    "sqlite_queue_ack moves it to the queue's dead letters (schnitzel-stream queue peek --dead). "
    "'auto' is, for packets from a durable queue, 'keep' when retries ran out and 'dead_letter' "
    "when the receiver rejected the packet itself (a 4xx answer, a payload that cannot be "
    "encoded), and 'drop' for all other packets."
)


def came_from_queue(packet: Packet) -> bool:
    """True when a durable queue source delivered the packet (and waits for its ack)."""
    durable = packet.meta.get(DURABLE_META_KEY)
    if not isinstance(durable, Mapping):
        return False
    seq = durable.get("seq")
    return isinstance(seq, int) and not isinstance(seq, bool)


def resolve(policy: OnFailure, packet: Packet, *, permanent: bool) -> Outcome:
    """The outcome of ``policy`` for one undelivered packet."""
    queued = came_from_queue(packet)
    if policy == "auto":
        if not queued:
            return "drop"
        return "dead_letter" if permanent else "keep"
    if policy == "dead_letter" and not queued:
        return "drop"  # nothing downstream keeps dead letters for packets that were never queued
    return policy


def mark_rejected(packet: Packet, node_id: str, reason: str) -> Packet:
    """The packet as forwarded to ``sqlite_queue_ack`` for the dead letters."""
    return packet.with_meta(**{REJECTED_META_KEY: {"node_id": node_id, "reason": reason}})


def rejection_of(packet: Packet) -> str | None:
    """The reason a sink rejected ``packet`` for good, or None when it was delivered."""
    found = packet.meta.get(REJECTED_META_KEY)
    if not isinstance(found, Mapping):
        return None
    return f"{found.get('node_id', '?')}: {found.get('reason', 'rejected')}"
