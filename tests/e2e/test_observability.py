"""Watching a running graph for real: ``run --metrics-addr`` (metrics, /healthz, /readyz),
honest summaries, JSON logs to the last line, ``top`` and ``graph``.

Every test runs the CLI as a subprocess and talks to it over real loopback sockets; they run
on every OS of the matrix. The POSIX-only parts (SIGHUP, sd_notify's watchdog, the journal)
are in tests/integration/test_service_signals.py.
"""

from __future__ import annotations

import json
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_run_cli import _endless_graph, cli
from tests.support.http_backend import running_backend
from tests.support.net import free_port
from tests.support.proc import CliProcess, start_cli

REPO = Path(__file__).resolve().parents[2]
ENV = {"NO_COLOR": "1", "PYTHONPATH": str(REPO)}


def _graph(tmp_path: Path, sink: str) -> Path:
    """The paced camera and motion detector into ``sink`` (a node entry whose id is the sink's)."""
    sink_id = sink.split("id:", 1)[1].split(",", 1)[0].strip()
    return _endless_graph(tmp_path, sink_id, sink)


def _jsonl_graph(tmp_path: Path) -> Path:
    return _endless_graph(tmp_path)


def _get(url: str, method: str = "GET") -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def _metrics(port: int) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    status, body, _ = _get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _value(samples: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str, **labels: str) -> float:
    for found, value in samples.get(name, {}).items():
        if all(dict(found).get(k) == v for k, v in labels.items()):
            return value
    return -1.0


def _start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> CliProcess:
    return start_cli(*args, log_dir=tmp_path / "proc", cwd=REPO, env={**ENV, **(env or {})})


def _until(what: str, condition: Any, proc: CliProcess, timeout: float = 30.0) -> None:
    proc.wait_until(condition, timeout=timeout, what=what)


@pytest.fixture
def port() -> Iterator[int]:
    yield free_port()


def test_metrics_health_and_readiness_of_a_running_graph(tmp_path: Path, port: int) -> None:
    graph = _jsonl_graph(tmp_path)
    args = ("run", str(graph), "--state-dir", str(tmp_path), "--metrics-addr", f"127.0.0.1:{port}")
    with _start(tmp_path, *args) as proc:
        proc.wait_for_stderr(f"metrics at http://127.0.0.1:{port}/metrics", timeout=30)
        _until(
            "events in the metrics",
            lambda: _value(_metrics(port), "schnitzel_stream_node_packets_in_total", node="events") > 0,
            proc,
        )
        samples = _metrics(port)
        assert _value(samples, "schnitzel_stream_node_packets_out_total", node="cam") > 0
        assert _value(samples, "schnitzel_stream_node_info", node="cam", kind="source") == 1
        assert _value(samples, "schnitzel_stream_node_inbox_capacity", node="motion") == 8
        assert _value(samples, "schnitzel_stream_node_processing_seconds_count", node="motion") > 0
        assert _value(samples, "schnitzel_stream_sink_packets_total", node="events", outcome="delivered") > 0
        assert _value(samples, "schnitzel_stream_build_info", graph=str(graph)) == 1
        if sys.platform.startswith("linux"):  # read from /proc/self; elsewhere not exposed
            assert _value(samples, "process_resident_memory_bytes") > 10_000_000
        assert _value(samples, "process_cpu_seconds_total") > 0
        status, body, _ = _get(f"http://127.0.0.1:{port}/healthz")
        assert (status, json.loads(body)["status"]) == (200, "ok")
        status, body, _ = _get(f"http://127.0.0.1:{port}/readyz")
        assert (status, json.loads(body)) == (200, {"status": "ready", "waiting": []})
        status, body, headers = _get(f"http://127.0.0.1:{port}/metrics", method="HEAD")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000
        assert _get(f"http://127.0.0.1:{port}/nope")[0] == 404
        finished = proc.stop()
    assert finished.returncode == 0, finished.describe()
    assert '"GET /metrics' not in finished.stderr  # request logs stay out of the log stream
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_readyz_waits_until_a_sink_has_delivered(tmp_path: Path, port: int) -> None:
    with running_backend(weights={"503": 1.0}, retry_after=0.1) as backend:
        config = f'url: "{backend.url}", retry_max_attempts: 0, retry_backoff_sec: 0.05, retry_backoff_max_sec: 0.2'
        graph = _graph(tmp_path, f"{{id: backend, kind: sink, plugin: http_sink, config: {{{config}}}}}")
        args = ("run", str(graph), "--state-dir", str(tmp_path), "--metrics-addr", str(port))
        with _start(tmp_path, *args) as proc:
            proc.wait_for_stderr("metrics at", timeout=30)

            def waiting() -> list[str]:
                status, body, _ = _get(f"http://127.0.0.1:{port}/readyz")
                answer: list[str] = json.loads(body)["waiting"]
                assert (status == 200) == (not answer)
                return answer

            _until(
                "the sink to be held back", lambda: any(w.startswith("backend has") for w in waiting()), proc
            )
            assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200  # failing to deliver is not hanging
            backend.control({"weights": {"200": 1.0}})
            _until("readiness once the backend accepts", lambda: waiting() == [], proc)
            samples = _metrics(port)
            assert (
                _value(samples, "schnitzel_stream_http_requests_total", node="backend", **{"class": "5xx"})
                > 0
            )
            assert _value(samples, "schnitzel_stream_http_retries_total", node="backend") > 0
            assert _value(samples, "schnitzel_stream_http_request_duration_seconds_count", node="backend") > 0
            assert _value(samples, "schnitzel_stream_ready") == 1
            assert proc.stop().returncode == 0


def test_a_sink_that_dropped_everything_says_so_in_the_last_line(tmp_path: Path) -> None:
    with running_backend(weights={"422": 1.0}) as backend:
        graph = tmp_path / "drop.yaml"
        graph.write_text(
            f"""version: 2
nodes:
  - id: src
    kind: source
    plugin: static_source
    config: {{packets: [{{kind: event, source_id: s, payload: {{n: 1}}}}], repeat: 23}}
  - {{id: h, kind: sink, plugin: http_sink, config: {{url: "{backend.url}", on_failure: drop}}}}
edges:
  - {{from: src, to: h}}
""",
            encoding="utf-8",
        )
        report = tmp_path / "report.json"
        done = cli("run", str(graph), "--report-json", str(report))
    assert done.returncode == 0, done.stderr  # the policy said drop: not a failure of the process
    last = done.stderr.strip().splitlines()[-1]
    assert "WARNING" in last and "h (http_sink) delivered none of its 23 packets (23 dropped)" in last
    assert "h (http_sink) received 23 packets: 0 delivered, 23 dropped" in done.stderr
    delivery = json.loads(report.read_text(encoding="utf-8"))["nodes"]["h"]["delivery"]
    assert delivery == {
        "received": 23,
        "delivered": 0,
        "dropped": 23,
        "kept": 0,
        "dead_lettered": 0,
        "pending": 0,
    }


def test_an_invalid_graph_under_json_logs_is_json_to_the_last_line(tmp_path: Path) -> None:
    graph = tmp_path / "bad.yaml"
    graph.write_text(
        "version: 2\nnodes:\n  - {id: cam, kind: source, plugin: synthetic_camera, config: {width: wide}}\n",
        encoding="utf-8",
    )
    done = cli("run", str(graph), "--log-format", "json")
    assert done.returncode == 78
    records = [json.loads(line) for line in done.stderr.splitlines()]
    problem = next(r for r in records if "width" in r["message"])
    assert (problem["level"], problem["file"], problem["line"]) == ("error", str(graph), 3)
    assert problem["path"] == "nodes[0].config.width"
    assert records[-1]["message"].endswith("invalid graph, not started")


def test_usage_errors_and_failures_after_start_are_json_too(tmp_path: Path, port: int) -> None:
    usage = cli("run", "--log-format", "json", "--max-events", "many")
    assert usage.returncode == 2
    (record,) = [json.loads(line) for line in usage.stderr.splitlines()]
    assert "--max-events" in record["message"] and record["code"] == "usage"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        in_use = cli("run", str(_jsonl_graph(tmp_path)), "--metrics-addr", str(port), "--log-format", "json")
    assert in_use.returncode == 1  # maybe the old process is still stopping: a restart may succeed
    records = [json.loads(line) for line in in_use.stderr.splitlines()]
    assert records[-1]["code"] == "metrics.address-in-use" and f"127.0.0.1:{port}" in records[-1]["message"]


@pytest.mark.parametrize(
    ("address", "code", "text"),
    [
        pytest.param("127.0.0.1:99999", 2, "1-65535", id="bad-port-is-usage"),
        pytest.param("[::1:80", 2, "IPv6", id="bad-syntax-is-usage"),
        pytest.param("no-such-host.invalid:9321", 78, "cannot resolve", id="unknown-host-is-config"),
        pytest.param("192.0.2.1:9321", 78, "cannot listen", id="not-this-machine-is-config"),
    ],
)
def test_unusable_metrics_addresses(tmp_path: Path, address: str, code: int, text: str) -> None:
    done = cli("run", str(_jsonl_graph(tmp_path)), "--metrics-addr", address, "--max-events", "1")
    assert done.returncode == code, done.stderr
    assert text in done.stderr
    assert "Traceback" not in done.stderr


def test_top_shows_the_running_graph_and_fails_clearly_without_one(tmp_path: Path, port: int) -> None:
    graph = _jsonl_graph(tmp_path)
    with _start(
        tmp_path, "run", str(graph), "--state-dir", str(tmp_path), "--metrics-addr", str(port)
    ) as proc:
        proc.wait_for_stderr("metrics at", timeout=30)
        _until(
            "packets",
            lambda: _value(_metrics(port), "schnitzel_stream_node_packets_out_total", node="cam") > 0,
            proc,
        )
        done = cli("top", "--addr", f"127.0.0.1:{port}", "--interval", "0.5", timeout=30)
        assert proc.stop().returncode == 0
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("uptime=") and "alive, ready" in lines[0]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"node=cam", "node=motion", "node=events"}
    out_rate = float(rows["node=cam"].split("out/s=")[1].split()[0].replace(",", ""))
    assert out_rate > 0
    assert "inbox=" in rows["node=motion"] and "delivered" in rows["node=events"]
    gone = cli("top", "--addr", f"127.0.0.1:{port}", timeout=30)
    assert gone.returncode == 1
    assert gone.stderr.count("\n") == 1 and "cannot read" in gone.stderr and "--metrics-addr" in gone.stderr


def test_graph_prints_mermaid_and_dot(tmp_path: Path) -> None:
    durable = REPO / "ops" / "graphs" / "synthetic_to_http_durable.yaml"
    mermaid = cli("graph", str(durable), "--state-dir", str(tmp_path))
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout.startswith("flowchart LR\n") and "-.->|lease|" in mermaid.stdout
    out = tmp_path / "g.dot"
    dot = cli("graph", str(durable), "--format", "dot", "--output", str(out), "--state-dir", str(tmp_path))
    assert dot.returncode == 0 and dot.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("digraph schnitzel_stream {")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\nnodes: 5\n", encoding="utf-8")
    invalid = cli("graph", str(bad))
    assert invalid.returncode == 1 and "bad.yaml" in invalid.stderr and invalid.stdout == ""
