"""The durable HTTP lane (``ops/graphs/synthetic_to_http_durable.yaml``) run through the CLI,
with a *tap* that proves which events were committed to the queue.

A copy of the reference graph is written per test, with two changes that do not alter the data
path: ``sqlite_queue_sink`` gets ``forward: true`` and feeds a ``jsonl_sink`` with
``fsync: true`` (the tap). The queue sink forwards a packet only after ``enqueue()`` returned,
that is after the commit (``commit_every: 1``), so **every tapped key was committed**. The
reverse does not hold: when the process dies, committed events may not have reached the tap
yet. At most :data:`TAP_WINDOW` per abrupt end, because the tap's inbox is bounded
(``__runtime__.inbox_max`` = :data:`TAP_INBOX_MAX`, policy ``block``):

- up to ``TAP_INBOX_MAX`` packets in the batch the tap's worker took from its inbox and is
  writing one by one (a batch is at most what the inbox held),
- up to ``TAP_INBOX_MAX`` more waiting in the refilled inbox,
- one in the queue sink worker's hand, committed, blocked on the full tap inbox.

So after any run, ``tapped ⊆ committed`` and ``|committed - tapped| <= TAP_WINDOW * abrupt ends``.

The final *drain* uses a second copy that holds only the delivering half
(``sqlite_queue_source`` with ``follow: false`` → ``http_sink`` → ``sqlite_queue_ack``), so it
ends by itself once every row was delivered and acknowledged, with no camera adding more.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.error
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from schnitzel_stream.nodes.synthetic import DEFAULT_OBJECTS
from tests.support.proc import CliProcess, Finished, start_cli

if TYPE_CHECKING:
    # Not imported at run time: test modules load it with pytest_plugins, and pytest must import
    # it first to rewrite its asserts.
    from tests.support.http_backend import BackendProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_GRAPH = REPO_ROOT / "ops" / "graphs" / "synthetic_to_http_durable.yaml"

TAP_INBOX_MAX = 4
#: Committed events one abrupt end (SIGKILL, or a stop that hit its timeout) can leave untapped.
TAP_WINDOW = 2 * TAP_INBOX_MAX + 1

#: cam:<run token>:frame:<n>:motion:<k>: the motion detector's keys extend the camera's.
KEY_PATTERN = re.compile(r"^cam:(?P<token>[0-9a-f]+):frame:(?P<frame>\d+):motion:(?P<k>\d+)$")

_T = TypeVar("_T")


def _reference() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(REFERENCE_GRAPH.read_text(encoding="utf-8"))
    return doc


def reference_config(node_id: str) -> dict[str, Any]:
    """The config of one node of the reference graph, as shipped."""
    for node in _reference()["nodes"]:
        if node["id"] == node_id:
            config: dict[str, Any] = node["config"]
            return config
    raise KeyError(node_id)


def write_graph(
    dest: Path,
    *,
    tap: bool = True,
    drain_only: bool = False,
    camera: Mapping[str, Any] | None = None,
    http: Mapping[str, Any] | None = None,
    dequeue: Mapping[str, Any] | None = None,
) -> Path:
    """Write a copy of the reference graph to ``dest``, with the tap and config overrides."""
    doc = _reference()
    nodes = {node["id"]: node for node in doc["nodes"]}
    nodes["cam"]["config"].update(camera or {})
    nodes["backend"]["config"].update(http or {})
    nodes["dequeue"]["config"].update(dequeue or {})
    if drain_only:
        keep = {"dequeue", "backend", "ack"}
        doc["nodes"] = [node for node in doc["nodes"] if node["id"] in keep]
        doc["edges"] = [edge for edge in doc["edges"] if edge["from"] in keep]
        nodes["dequeue"]["config"]["follow"] = False
    elif tap:
        enqueue = nodes["enqueue"]
        enqueue["kind"] = "node"  # it has a downstream now: a sink may not
        enqueue["config"]["forward"] = True
        doc["nodes"].append(
            {
                "id": "tap",
                "kind": "sink",
                "plugin": "jsonl_sink",
                "config": {
                    "path": "${state}/tap.jsonl",
                    "fsync": True,
                    "__runtime__": {"inbox_max": TAP_INBOX_MAX, "inbox_overflow": "block"},
                },
            }
        )
        doc["edges"].append({"from": "enqueue", "to": "tap"})
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return dest


@dataclass
class DurableLane:
    """One device's state directory, its graph copies, and the runs started on it."""

    root: Path
    backend_url: str
    graph: Path
    drain_graph: Path
    runs: int = 0
    extra_env: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        root: Path,
        backend_url: str,
        *,
        camera: Mapping[str, Any] | None = None,
        http: Mapping[str, Any] | None = None,
        dequeue: Mapping[str, Any] | None = None,
    ) -> DurableLane:
        graph = write_graph(root / "graph.yaml", camera=camera, http=http, dequeue=dequeue)
        drain = write_graph(root / "drain.yaml", drain_only=True, http=http, dequeue=dequeue)
        return cls(root=root, backend_url=backend_url, graph=graph, drain_graph=drain)

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def queue_file(self) -> Path:
        return self.state_dir / "queues" / "events.sqlite3"

    @property
    def tap_file(self) -> Path:
        return self.state_dir / "tap.jsonl"

    def env(self) -> dict[str, str | None]:
        return {
            "NO_COLOR": "1",
            "PYTHONPATH": str(REPO_ROOT),
            "SCHNITZEL_BACKEND_URL": self.backend_url,
            "SCHNITZEL_BACKEND_AUTH": "",  # the reference graph sends this header; empty: none
            "SCHNITZEL_STREAM_CONFIG_DIR": str(self.root / "config"),
            "SCHNITZEL_STREAM_LOGS_DIR": str(self.root / "logs"),
            # A systemd test runner must not make the children talk to it.
            "NOTIFY_SOCKET": None,
            "WATCHDOG_USEC": None,
            "WATCHDOG_PID": None,
            **self.extra_env,
        }

    def start(self, *args: str, graph: Path | None = None, label: str = "run") -> CliProcess:
        """Start the runtime contract on this lane's state directory."""
        self.runs += 1
        return start_cli(
            "--graph",
            str(graph or self.graph),
            "--state-dir",
            str(self.state_dir),
            "--status-interval",
            "5",
            *args,
            log_dir=self.root / "runs" / f"{self.runs:03d}-{label}",
            cwd=REPO_ROOT,
            env=self.env(),
        )

    def drain(self, timeout: float = 120.0) -> Finished:
        """Run the delivering half until every queued row was delivered and acknowledged."""
        with self.start(graph=self.drain_graph, label="drain") as proc:
            finished = proc.wait(timeout)
        assert finished.returncode == 0, finished.describe()
        return finished

    def tapped(self) -> list[str]:
        return tapped_keys(self.tap_file)

    def queued(self) -> list[str]:
        return queue_keys(self.queue_file)


def tapped_keys(path: Path) -> list[str]:
    """The idempotency keys in the tap, in order; a line cut by a kill is not counted."""
    if not path.is_file():
        return []
    keys: list[str] = []
    for line in path.read_bytes().split(b"\n"):
        try:
            packet = json.loads(line)
        except ValueError:
            continue  # the empty tail, or a partial line a SIGKILL cut short
        keys.append(str(packet["meta"]["idempotency_key"]))
    return keys


def queue_keys(path: Path) -> list[str]:
    """The keys still in the queue file (the table layout is documented in docs/queue.md)."""
    if not path.is_file():
        return []
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=10)
    try:
        return [str(row[0]) for row in conn.execute("SELECT key FROM queue ORDER BY seq")]
    finally:
        conn.close()


def retrying(call: Callable[[], _T], *, timeout: float = 15.0) -> _T:
    """``call()``, retried while the backend refuses connections (its short outages)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def process_accepted_keys(backend: BackendProcess) -> list[str]:
    """Every key a backend subprocess accepted, in arrival order, duplicates included."""
    records = retrying(backend.records)
    return [key for record in records if record["accepted"] for key in record["keys"]]


def producible(key: str) -> bool:
    """Could the reference graph's detector emit ``key``?

    The key must have the detector's form, and its frame (modulo the camera's ``loop``) must
    show more than ``k`` of the camera's objects: the detector emits at most one event per
    visible object.
    """
    match = KEY_PATTERN.match(key)
    if match is None:
        return False
    camera = reference_config("cam")
    index = int(match["frame"]) % int(camera["loop"])
    visible = sum(
        obj.visible_box(index, int(camera["width"]), int(camera["height"])) is not None
        for obj in DEFAULT_OBJECTS
    )
    return int(match["k"]) < visible


@dataclass(frozen=True, slots=True)
class Accounting:
    """What was committed (tapped) against what the backend accepted."""

    tapped: frozenset[str]
    received: frozenset[str]
    accepted: int  # accepted deliveries of keys, duplicates included

    @classmethod
    def of(cls, tapped: Iterable[str], accepted: Sequence[str]) -> Accounting:
        return cls(tapped=frozenset(tapped), received=frozenset(accepted), accepted=len(accepted))

    @property
    def lost(self) -> frozenset[str]:
        return self.tapped - self.received

    @property
    def untapped(self) -> frozenset[str]:
        """Received but never tapped: committed in a window that an abrupt end cut short."""
        return self.received - self.tapped

    @property
    def duplicates(self) -> int:
        return self.accepted - len(self.received)

    @property
    def committed(self) -> int:
        """Every event known to be committed: tapped, or delivered from the queue."""
        return len(self.tapped | self.received)


def delivered_unacked(queued: Iterable[str], accepted: Iterable[str]) -> set[str]:
    """Rows still in the queue that the backend already accepted: redelivered after a restart."""
    return set(queued) & set(accepted)
