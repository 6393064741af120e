"""The packet record: timestamps, ids, idempotency keys and JSON portability."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime

import pytest

from schnitzel_stream.packet import Packet, is_json_portable, iso_from_ns, new_packet_id, utc_now_iso


@pytest.mark.parametrize(
    "wall_ns",
    [
        pytest.param(0, id="epoch"),
        pytest.param(1_700_000_000_123_456_789, id="ms-truncated"),
        pytest.param(1_700_000_000_999_999_999, id="end-of-second"),
        pytest.param(4_102_444_800_000_000_000, id="year-2100"),
    ],
)
def test_iso_from_ns_matches_datetime_with_milliseconds(wall_ns: int) -> None:
    seconds, nanos = divmod(wall_ns, 1_000_000_000)
    expected = datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1_000_000 * 1000)
    assert iso_from_ns(wall_ns) == expected.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_utc_now_iso_is_now_in_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = utc_now_iso()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    parsed = datetime.fromisoformat(stamp)
    assert before <= parsed <= datetime.now(UTC)


def test_packet_ids_are_unique_and_keys_fall_back_to_them() -> None:
    ids = {new_packet_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    packet = Packet.new("event", "cam", {"n": 1})
    assert packet.idempotency_key == packet.packet_id
    keyed = packet.with_meta(idempotency_key="cam:1")
    assert keyed.idempotency_key == "cam:1" and "idempotency_key" not in packet.meta


def test_json_round_trip_and_portability() -> None:
    packet = Packet.new("event", "cam", {"bbox": [1, 2.5, None, True]}, meta={"k": "v"})
    again = Packet.from_dict(json.loads(packet.to_json()))
    assert again == packet
    assert is_json_portable(packet.payload)
    assert not is_json_portable({"x": math.nan})
    assert not is_json_portable({1: "non-string key"})
    assert not is_json_portable(object())
    with pytest.raises(ValueError):
        Packet.new("event", "cam", math.inf).to_json()
