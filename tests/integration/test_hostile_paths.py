"""File paths that cannot be what a node needs, and a stdout that goes away (issue 11, class 6).

A queue, JSONL or video path that is a directory, a FIFO, a device, or sits under a file is
found by ``validate`` (exit 1, the line and the path) and refused by ``run`` with exit 78
(EX_CONFIG: a service manager stops restarting). A directory that exists but cannot be
written is only known to the user that runs the graph: ``run`` refuses it with exit 78 and
says which directory. Real files, FIFOs and devices, the CLI as a subprocess; a read-only
directory is a real read-only tmpfs in a private mount namespace (hence Linux: this runs in
the integration session, with the other tests that need the real system).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.hostile import Sandbox, make_sandbox, problem_line, write_graph
from tests.support.proc import cli_command

SOURCE = "  - {id: src, kind: source, plugin: static_source, config: {packets: [{payload: {a: 1}}]}}\n"


def sink_graph(plugin: str, path: Path) -> str:
    return (
        "version: 2\nnodes:\n"
        + SOURCE
        + f'  - {{id: out, kind: sink, plugin: {plugin}, config: {{path: "{path.as_posix()}"}}}}\n'
        + "edges:\n  - {from: src, to: out}\n"
    )


def video_graph(path: Path) -> str:
    return (
        "version: 2\nnodes:\n"
        + f'  - {{id: clip, kind: source, plugin: video_file, config: {{path: "{path.as_posix()}"}}}}\n'
        + "  - {id: out, kind: sink, plugin: print_sink}\n"
        + "edges:\n  - {from: clip, to: out}\n"
    )


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return make_sandbox(tmp_path)


def target(box: Sandbox, kind: str) -> Path:
    """A path of ``kind`` in the sandbox: a directory, a FIFO, a device, or under a file."""
    place = box.root / "places"
    place.mkdir(exist_ok=True)
    if kind == "directory":
        path = place / "a-directory"
        path.mkdir()
        return path
    if kind == "fifo":
        path = place / "a-fifo"
        os.mkfifo(path)
        return path
    if kind == "device":
        return Path(os.devnull)
    if kind == "under-a-file":
        (place / "a-file").write_text("x")
        return place / "a-file" / "deeper" / "out"
    raise AssertionError(kind)


EXPECTED = {
    "directory": "is a directory, not a file",
    "fifo": "is a FIFO (named pipe), not a regular file",
    "device": "is a device, not a regular file",
    "under-a-file": "is not a directory",
}


def refused_statically(box: Sandbox, graph: Path, code: str, path: Path, what: str) -> None:
    checked = box.run("validate", str(graph))
    assert checked.returncode == 1, checked.stdout + checked.stderr
    line = problem_line(checked.stdout, graph, code).group(0)
    assert str(path) in line and what in line, line
    ran = box.run("run", str(graph), timeout=60)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 78, output
    assert str(path) in ran.stderr and what in ran.stderr
    assert "Traceback" not in output and "disk I/O error" not in output


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize(
    ("plugin", "code"),
    [("sqlite_queue_sink", "queue.path"), ("jsonl_sink", "jsonl.path")],
    ids=["queue", "jsonl"],
)
def test_an_output_path_that_is_not_a_file_is_refused(
    box: Sandbox, plugin: str, code: str, kind: str
) -> None:
    path = target(box, kind)
    graph = write_graph(box, sink_graph(plugin, path))
    refused_statically(box, graph, code, path, EXPECTED[kind])
    if kind == "device":
        assert Path(os.devnull).is_char_device()  # and nothing moved it aside


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_video_path_that_is_not_a_file_is_refused(box: Sandbox, kind: str) -> None:
    path = target(box, kind)
    graph = write_graph(box, video_graph(path))
    # A FIFO used to block the open for ever; now it is refused before anything opens it.
    refused_statically(box, graph, "video.path", path, EXPECTED[kind])


def test_a_missing_video_is_a_config_error_at_run_only(box: Sandbox) -> None:
    path = box.root / "clips" / "missing.mp4"
    graph = write_graph(box, video_graph(path))
    assert box.run("validate", str(graph)).returncode == 0  # it may be deployed later
    ran = box.run("run", str(graph))
    assert ran.returncode == 78 and f"path {path} does not exist" in ran.stderr, ran.stderr


def test_the_queue_commands_name_what_the_path_is(box: Sandbox) -> None:
    path = target(box, "directory")
    shown = box.run("queue", "stats", str(path))
    assert shown.returncode != 0 and f"{path} is a directory, not a file" in shown.stderr
    assert "Traceback" not in shown.stderr


def test_a_directory_the_service_cannot_write_is_refused_at_run(tmp_path: Path) -> None:
    tools = [shutil.which(name) for name in ("unshare", "mount")]
    assert all(tools), "util-linux's unshare and mount are needed"
    readonly = (tmp_path / "readonly").resolve()
    readonly.mkdir()
    queue = readonly / "queue" / "events.sqlite3"
    graph = tmp_path / "graph.yaml"
    graph.write_text(sink_graph("sqlite_queue_sink", queue))
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    # A read-only tmpfs: even root cannot write there, so the check does not depend on who runs CI.
    script = f"mount -t tmpfs -o ro,size=1m ro-disk {shlex.quote(str(readonly))} && exec " + shlex.join(
        cli_command("run", str(graph))
    )
    done = subprocess.run(
        ["unshare", *user, "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 78, done.stderr
    assert f"directory {readonly} is not writable by this user" in done.stderr
    assert "Traceback" not in done.stderr


# -- a stdout that goes away -------------------------------------------------------------------


def test_a_closed_stdout_stops_the_run_quietly(tmp_path: Path) -> None:
    graph = tmp_path / "endless.yaml"
    graph.write_text(
        "version: 2\nnodes:\n"
        "  - {id: src, kind: source, plugin: static_source, config: {repeat: 0, packets: [{payload: {a: 1}}]}}\n"
        "  - {id: out, kind: sink, plugin: print_sink}\n"
        "edges:\n  - {from: src, to: out}\n"
    )
    # The shell's `run ... | head -1`: head reads one line and closes the pipe.
    child = subprocess.Popen(
        cli_command("run", str(graph)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert child.stdout is not None
    first = child.stdout.readline()
    child.stdout.close()
    _, err = child.communicate(timeout=60)
    stderr = err.decode()
    assert json.loads(first)["payload"] == {"a": 1}
    assert child.returncode == 0, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr and "ERROR" not in stderr
    assert "stdout was closed by its reader" in stderr


def test_print_sink_lines_are_json_even_for_nan_and_infinity(tmp_path: Path) -> None:
    code = (
        "from schnitzel_stream.nodes.dev import PrintSink\n"
        "from schnitzel_stream.packet import Packet\n"
        "PrintSink(node_id='p').process(Packet.new('event', 'c', "
        "{'x': float('nan'), 'y': [float('inf'), -float('inf'), 1.5], 't': 'caf\\udce9'}))\n"
    )
    # An ASCII console: text it cannot encode is escaped, not a crash.
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
        timeout=60,
        check=True,
    )
    line = json.loads(done.stdout)
    assert line["payload"]["x"] == "NaN" and line["payload"]["y"] == ["Infinity", "-Infinity", 1.5]
    assert line["payload"]["t"] == "caf\udce9"
