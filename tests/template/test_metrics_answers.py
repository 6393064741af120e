"""The metrics answers of the template and the RUNBOOK's picture of its graph.

- ``metrics_port`` (0: off) and ``metrics_listen`` reach every OS's service command as
  ``--metrics-addr``, and ``validate --deployment`` accepts the root and refuses a service
  file whose command disagrees with the answers;
- every rendered RUNBOOK embeds its own graph as a Mermaid diagram: the same text
  ``schnitzel-stream graph`` prints for the root's ``config/graph.yaml``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from schnitzel_stream.deploy.layout import answers_from_mapping, layout_for
from schnitzel_stream.graph.draw import _mermaid_text
from tests.template._support import OSES, PROFILES, answers, cli, problems_of, render

SERVICE_FILE = {
    "linux": "schnitzel-stream-edge-1.service",
    "macos": "dev.schnitzel-stream.edge-1.plist",
    "windows": "schnitzel-stream-edge-1.winsvc.json",
}
QUEUE_LABEL = re.compile(r'(    q\d+\[\("queue<br/>)(.*)("\)\])')


def _validate(root: Path) -> list[dict[str, object]]:
    done = cli("validate", "--deployment", str(root), "--format", "json")
    return [p for p in problems_of(json.loads(done.stdout)) if p["severity"] == "error"]


@pytest.mark.parametrize("os_name", OSES)
def test_metrics_reach_the_service_command_and_validate(
    template_dir: Path, tmp_path: Path, os_name: str
) -> None:
    scope = "user" if os_name == "macos" else "system"
    extra = {"user_home": "/Users/edge"} if scope == "user" else {}
    on = render(
        template_dir,
        tmp_path / "on",
        answers(os_name, scope, "synthetic_demo", metrics_port=9321, metrics_listen="0.0.0.0", **extra),
    )
    service = (on / SERVICE_FILE[os_name]).read_text(encoding="utf-8")
    assert "--metrics-addr" in service and "0.0.0.0:9321" in service
    assert _validate(on) == []
    runbook = (on / "RUNBOOK.md").read_text(encoding="utf-8")
    assert "http://127.0.0.1:9321/readyz" in runbook and "open the port to your" in runbook

    off = render(template_dir, tmp_path / "off", answers(os_name, scope, "synthetic_demo", **extra))
    assert "--metrics-addr" not in (off / SERVICE_FILE[os_name]).read_text(encoding="utf-8")
    assert "The metrics endpoint is off" in (off / "RUNBOOK.md").read_text(encoding="utf-8")
    assert _validate(off) == []

    # A service file edited to listen elsewhere than the answers say is refused.
    (on / SERVICE_FILE[os_name]).write_text(service.replace("0.0.0.0:9321", "0.0.0.0:9999"), encoding="utf-8")
    codes = {p["code"] for p in _validate(on)}
    assert "deploy.metrics-addr" in codes


@pytest.mark.parametrize("value", [80, 65536, -1, "9321 --log-level debug"])
def test_validate_deployment_refuses_a_bad_metrics_port(
    template_dir: Path, tmp_path: Path, value: object
) -> None:
    root = render(template_dir, tmp_path / "root", answers("linux", "system", "synthetic_demo"))
    stored = root / ".copier-answers.yml"
    stored.write_text(
        stored.read_text(encoding="utf-8").replace("metrics_port: 0", f"metrics_port: {value}"),
        encoding="utf-8",
    )
    assert "metrics_port" in "\n".join(str(p["message"]) for p in _validate(root))


def _mermaid(runbook: str) -> str:
    match = re.search(r"```mermaid\n(.*?)```", runbook, re.DOTALL)
    assert match, "the RUNBOOK has no mermaid block"
    return match.group(1)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("os_name", OSES)
def test_the_runbook_draws_its_own_graph(
    template_dir: Path, tmp_path: Path, os_name: str, profile: str
) -> None:
    data = answers(os_name, "portable" if os_name == "windows" else "system", profile)
    root = render(template_dir, tmp_path / "root", data)
    embedded = _mermaid((root / "RUNBOOK.md").read_text(encoding="utf-8"))
    drawn = cli(
        "--env-file",
        str(root / "config" / "schnitzel-stream.env"),
        "graph",
        str(root / "config" / "graph.yaml"),
        "--state-dir",
        str(tmp_path / "state"),
    )
    assert drawn.returncode == 0, drawn.stderr
    # The queue files' labels show the path on the device (the answers' layout); the rest is
    # exactly what `schnitzel-stream graph` prints.
    assert QUEUE_LABEL.sub(r"\1\3", embedded) == QUEUE_LABEL.sub(r"\1\3", drawn.stdout)
    stored, problems = answers_from_mapping(
        yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8")), ".copier-answers.yml"
    )
    assert stored is not None, problems
    state = layout_for(stored).state_dir
    graph = yaml.safe_load((root / "config" / "graph.yaml").read_text(encoding="utf-8"))
    queues = list(
        dict.fromkeys(n["config"]["path"] for n in graph["nodes"] if n["plugin"].startswith("sqlite_queue_"))
    )
    shown = [label for _, label, _ in QUEUE_LABEL.findall(embedded)]
    assert shown == [_mermaid_text(path.replace("${state}", state)) for path in queues]
    assert bool(shown) == (profile != "synthetic_demo")
