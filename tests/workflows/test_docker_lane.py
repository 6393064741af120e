"""The Docker lane, read statically: no Docker engine runs here, so GitHub CI is its only build.

These catch what would otherwise fail only on the runner: a COPY of a file the build context
does not send, a graph path the CI job does not find, or an image that runs as root.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "ops" / "docker" / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def _context_allowlist() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in lines, ".dockerignore should exclude everything and allow what the build copies"
    return [line[1:].rstrip("/") for line in lines if line.startswith("!")]


def test_every_copy_from_the_context_exists_and_is_sent_to_the_daemon() -> None:
    allowed = _context_allowlist()
    sources: list[str] = []
    for keyword, rest in _instructions():
        args = shlex.split(rest)
        if keyword != "COPY" or any(arg.startswith("--from") for arg in args):
            continue
        sources.extend(arg.rstrip("/") for arg in args[:-1] if not arg.startswith("--"))
    assert sources
    for source in sources:
        assert (REPO_ROOT / source).exists(), source
        assert any(source == entry or source.startswith(f"{entry}/") for entry in allowed), source


def test_the_image_installs_from_the_lock_and_runs_the_contract_as_a_non_root_user() -> None:
    instructions = _instructions()
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "uv sync --locked --no-dev" in runs
    user = [rest for keyword, rest in instructions if keyword == "USER"]
    assert user and user[-1].split(":")[0] not in {"0", "root"}
    entrypoint = [rest for keyword, rest in instructions if keyword == "ENTRYPOINT"]
    assert entrypoint == ['["python", "-m", "schnitzel_stream"]']


def test_the_default_graph_and_its_events_are_where_the_ci_job_looks() -> None:
    cmd = next(rest for keyword, rest in reversed(_instructions()) if keyword == "CMD")
    graph_in_image = yaml.safe_load(cmd)[-1]
    copy = next(
        shlex.split(rest)
        for keyword, rest in _instructions()
        if keyword == "COPY" and rest.startswith("ops/graphs/")
    )
    image_dir = copy[-1].rstrip("/")
    local_graph = REPO_ROOT / "ops" / "graphs" / Path(graph_in_image).relative_to(image_dir)
    assert local_graph.is_file()
    # SCHNITZEL_STREAM_SCOPE=system in the image: ${state} is the Linux system state directory.
    sink_paths = [
        node["config"]["path"]
        for node in yaml.safe_load(local_graph.read_text(encoding="utf-8"))["nodes"]
        if node["plugin"] == "jsonl_sink"
    ]
    events_in_image = sink_paths[0].replace("${state}", "/var/lib/schnitzel-stream")
    ci = (REPO_ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert f"schnitzel-ci:{events_in_image}" in ci
    assert "SCHNITZEL_STREAM_SCOPE=system" in DOCKERFILE.read_text(encoding="utf-8")
