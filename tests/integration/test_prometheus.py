"""The metrics endpoint against the real tools: Debian's Prometheus scrapes a running graph and
answers queries for its series, ``promtool`` lints the exposition and checks and unit-tests
the alert rules, and every query of the Grafana dashboard and the rules names only series
the graph really exposes.

The graph has every family of metrics at once: a synthetic camera into a durable queue, the
queue into an HTTP backend, and a real RTSP camera (GStreamer) into an MQTT broker (mosquitto).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_observability import ENV, REPO, _get, _metrics, _value
from tests.support.graphs import paced_camera
from tests.support.http_backend import running_backend
from tests.support.mqtt import running_mosquitto
from tests.support.net import free_port, wait_for_port
from tests.support.proc import CliProcess, start_cli
from tests.support.rtsp import start_rtsp_server

MONITORING = REPO / "ops" / "monitoring"
P = "schnitzel_stream_"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: apt-get install -y prometheus (.ci/run does)", pytrace=False)
    return found


@dataclass
class LiveGraph:
    port: int
    proc: CliProcess
    queue: Path


GRAPH = """version: 2
nodes:
{camera_nodes}  - {{id: enqueue, kind: sink, plugin: sqlite_queue_sink, config: {{path: "{queue}"}}}}
  - {{id: dequeue, kind: source, plugin: sqlite_queue_source, config: {{path: "{queue}", follow: true}}}}
  - {{id: backend, kind: node, plugin: http_sink, config: {{url: "{backend}", forward: true}}}}
  - {{id: ack, kind: sink, plugin: sqlite_queue_ack, config: {{path: "{queue}"}}}}
  - {{id: door, kind: source, plugin: rtsp_camera, config: {{url: "{camera}"}}}}
  - {{id: door_motion, kind: node, plugin: motion_detector}}
  - {{id: broker, kind: sink, plugin: mqtt_sink, config: {{url: "{broker}", topic: "events/{{source_id}}", qos: 1}}}}
edges:
  - {{from: cam, to: motion}}
  - {{from: motion, to: enqueue}}
  - {{from: dequeue, to: backend}}
  - {{from: backend, to: ack}}
  - {{from: door, to: door_motion}}
  - {{from: door_motion, to: broker}}
"""


@pytest.fixture(scope="module")
def live_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGraph]:
    root = tmp_path_factory.mktemp("live")
    camera = start_rtsp_server(width=320, height=180, fps=15)
    try:
        with running_backend() as backend, running_mosquitto(root / "broker") as broker:
            queue = root / "events.sqlite3"
            graph = root / "graph.yaml"
            graph.write_text(
                GRAPH.format(
                    camera_nodes=paced_camera(fps=15),
                    queue=queue.as_posix(),
                    backend=backend.url,
                    camera=camera.url,
                    broker=broker.url,
                ),
                encoding="utf-8",
            )
            port = free_port()
            args = ("run", str(graph), "--metrics-addr", f"127.0.0.1:{port}", "--status-interval", "0")
            with start_cli(*args, log_dir=root / "proc", cwd=REPO, env=ENV) as proc:
                proc.wait_for_stderr("metrics at", timeout=30)

                def everything_flows() -> bool:
                    samples = _metrics(port)
                    return all(
                        _value(samples, name, **labels) > 0
                        for name, labels in (
                            (P + "camera_frames_total", {"node": "door"}),
                            (P + "mqtt_published_total", {"node": "broker"}),
                            (P + "sink_packets_total", {"node": "backend", "outcome": "delivered"}),
                            (P + "queue_commit_duration_seconds_count", {"node": "enqueue"}),
                        )
                    )

                proc.wait_until(everything_flows, timeout=90, what="frames, publishes and deliveries")
                yield LiveGraph(port, proc, queue)
                finished = proc.stop(timeout=15)
                assert finished.returncode == 0, finished.describe()
    finally:
        camera.fail_if_it_died()


def _exposition(port: int) -> str:
    status, body, headers = _get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return body.decode()


def _names(text: str) -> set[str]:
    """Metric names of an exposition, with the histogram suffixes folded back onto the family."""
    names = {
        line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")
    }
    return names | {re.sub(r"_(bucket|sum|count)$", "", name) for name in names}


def test_promtool_finds_nothing_to_lint_in_a_full_exposition(live_graph: LiveGraph) -> None:
    text = _exposition(live_graph.port)
    names = _names(text)
    for family in ("camera", "queue", "http", "mqtt", "node", "sink"):
        assert any(name.startswith(f"{P}{family}_") for name in names), family
    checked = subprocess.run(
        [_tool("promtool"), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "" and checked.stderr.strip() == "", checked.stdout + checked.stderr


def test_the_rules_load_and_their_unit_tests_pass() -> None:
    promtool = _tool("promtool")
    checked = subprocess.run(
        [promtool, "check", "rules", str(MONITORING / "alerts.yml")],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0 and "SUCCESS: 6 rules found" in checked.stdout, (
        checked.stdout + checked.stderr
    )
    tested = subprocess.run(
        [promtool, "test", "rules", "alerts.test.yml"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=MONITORING,
    )
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


def _queries() -> list[str]:
    """Every PromQL expression of the dashboard and the rules, with Grafana's variables filled in."""
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text(encoding="utf-8"))
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    rules = (MONITORING / "alerts.yml").read_text(encoding="utf-8")
    exprs += [m.group(1) for m in re.finditer(r"expr: \|\n((?:          .+\n)+)", rules)]
    exprs += re.findall(r"expr: (?!\|)(.+)", rules)
    return [e.replace("$__rate_interval", "10s").replace('=~"$instance"', '=~".*"').strip() for e in exprs]


def test_every_query_of_the_dashboard_and_the_rules_names_a_real_series(live_graph: LiveGraph) -> None:
    names = _names(_exposition(live_graph.port))
    queries = _queries()
    assert len(queries) >= 26
    for expr in queries:
        used = set(re.findall(r"\b((?:schnitzel_stream|process)_[a-z_]+)\b", expr))
        assert used, expr
        assert used <= names, (expr, sorted(used - names))


@pytest.fixture(scope="module")
def prometheus(live_graph: LiveGraph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's prometheus, scraping the graph every second, with the alert rules loaded."""
    root = tmp_path_factory.mktemp("prometheus")
    config = root / "prometheus.yml"
    config.write_text(
        f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {MONITORING / "alerts.yml"}
scrape_configs:
  - job_name: schnitzel
    static_configs:
      - targets: ["127.0.0.1:{live_graph.port}"]
""",
        encoding="utf-8",
    )
    port = free_port()
    log = (root / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            _tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={root / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, timeout=30)
        deadline = time.monotonic() + 60
        while _get(f"{base}/-/ready")[0] != 200:  # the port opens before the TSDB is ready
            assert process.poll() is None and time.monotonic() < deadline, (
                root / "prometheus.log"
            ).read_text()
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _query(base: str, expr: str) -> list[dict[str, Any]]:
    status, body, _ = _get(f"{base}/api/v1/query?query={urllib.parse.quote(expr)}")
    answer = json.loads(body)
    assert status == 200 and answer["status"] == "success", (expr, answer)
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def _eventually(base: str, expr: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = _query(base, expr)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_prometheus_scrapes_the_graph_and_answers_for_its_series(prometheus: str) -> None:
    (up,) = _eventually(prometheus, 'up{job="schnitzel"} == 1')
    assert up["metric"]["job"] == "schnitzel"
    # The first windows after the camera starts hold less than 5 s of frames (Prometheus
    # extrapolates from the samples it has), so wait for a full one rather than time it.
    frames = _eventually(prometheus, f'rate({P}camera_frames_total{{node="door"}}[5s]) > 5')
    assert frames and float(frames[0]["value"][1]) < 40  # a 15 fps camera
    # The documented join: plugin and kind come from node_info.
    out = _eventually(
        prometheus,
        f'{P}node_packets_out_total{{node="cam"}} * on (node) group_left (plugin, kind) {P}node_info > 0',
    )
    assert (out[0]["metric"]["plugin"], out[0]["metric"]["kind"]) == ("synthetic_camera", "source")
    depth = _eventually(prometheus, f"{P}queue_depth")
    assert {series["metric"]["node"] for series in depth} == {"enqueue", "dequeue", "ack"}
    delivered = _eventually(prometheus, f'{P}sink_packets_total{{node="backend",outcome="delivered"}} > 0')
    assert delivered
    p99 = _eventually(
        prometheus,
        f'histogram_quantile(0.99, rate({P}node_processing_seconds_bucket{{node="motion"}}[10s])) > 0',
    )
    assert 0 < float(p99[0]["value"][1]) < 5
    build = _eventually(prometheus, f"{P}build_info")
    assert build[0]["metric"]["version"]
    for expr in _queries():
        _query(prometheus, expr)  # every dashboard and rule expression is valid PromQL here
    _, body, _ = _get(f"{prometheus}/api/v1/rules")
    groups = json.loads(body)["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == 6 and all(rule["health"] in ("ok", "unknown") for rule in rules), rules
