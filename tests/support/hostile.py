"""A sandbox for hostile-input tests: the CLI runs where nothing may change, with canaries.

The CLI runs as a subprocess from an empty working directory, with the path classes pointing
into ``tmp_path``; after a refused case the working directory and the path classes are still
empty (``validate`` writes nothing) and no canary exists. A canary is a file that only code
execution could create: a YAML tag that calls ``builtins.open(CANARY, "w")``, or a module of
the plugin package ``hostilepkg`` (on the child's ``PYTHONPATH``) that creates one when it is
imported. Test modules build one per test with :func:`make_sandbox`.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.proc import cli_command

#: Nothing from the test runner's environment may change what the CLI allows.
_SCRUB = ("SCHNITZEL_STREAM_PLUGIN_ALLOWLIST", "PYTHONPATH", "NO_COLOR", "FORCE_COLOR")
ZEN = "Beautiful is better than ugly"


@dataclass(frozen=True)
class Sandbox:
    """Where a case may and may not write; ``run`` runs the CLI there."""

    root: Path
    cwd: Path
    canaries: Path
    state: Path
    site: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The child's environment: scrubbed, the canary package on its path, and ``extra``."""
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env.update(
            NO_COLOR="1",
            PYTHONPATH=str(self.site),
            HOSTILE_CANARY_DIR=str(self.canaries),
            SCHNITZEL_STREAM_STATE_DIR=str(self.state),
            SCHNITZEL_STREAM_CONFIG_DIR=str(self.root / "config"),
            SCHNITZEL_STREAM_LOGS_DIR=str(self.root / "logs"),
        )
        env.update(extra)
        return env

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """``python -m schnitzel_stream ARGS`` from the empty working directory, to its end."""
        return subprocess.run(
            cli_command(*args),
            cwd=self.cwd,
            env=self.env(**(env or {})),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            check=False,
        )

    def canary(self, name: str) -> Path:
        """A canary path: only code execution creates a file there."""
        return self.canaries / name

    def untouched(self) -> None:
        """Nothing was executed or written: no canary, and cwd and the path classes are empty."""
        canaries = sorted(p.name for p in self.canaries.iterdir())
        assert canaries == [], f"code ran: canaries {canaries}"
        written = list(self.cwd.iterdir())
        assert written == [], f"the CLI wrote into its working directory: {written}"
        for name in ("state", "config", "logs"):
            assert not (self.root / name).exists(), f"validate created ${{{name}}}"


#: The plugin package whose modules record being imported (they must never be, unless allowed).
_CANARY_MODULE = """\
import os
from pathlib import Path

Path(os.environ["HOSTILE_CANARY_DIR"], __name__).touch()
"""
_NODES_MODULE = (
    _CANARY_MODULE
    + """
from schnitzel_stream.nodes.base import Node


class Tag(Node):
    \"\"\"A well-behaved node: the positive control that the canaries work.\"\"\"


class Helper:
    \"\"\"A class in an allowlisted module that is no node.\"\"\"
"""
)


def make_sandbox(tmp_path: Path) -> Sandbox:
    """A fresh sandbox in ``tmp_path``, with the ``hostilepkg`` canary package."""
    box = Sandbox(tmp_path, tmp_path / "cwd", tmp_path / "canaries", tmp_path / "state", tmp_path / "site")
    for directory in (box.cwd, box.canaries, box.site / "hostilepkg"):
        directory.mkdir(parents=True)
    (box.site / "hostilepkg" / "__init__.py").write_text(_CANARY_MODULE, encoding="utf-8")
    (box.site / "hostilepkg" / "nodes.py").write_text(_NODES_MODULE, encoding="utf-8")
    (box.site / "hostilepkg" / "nodes_evil.py").write_text(
        _CANARY_MODULE + "\nclass X:\n    def process(self, packet): ...\n", encoding="utf-8"
    )
    return box


def write_graph(box: Sandbox, text: str, name: str = "graph.yaml") -> Path:
    """Write a graph file into the sandbox (outside its working directory)."""
    path = box.root / "graphs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problem_line(output: str, path: Path, code: str) -> re.Match[str]:
    """The one line that reports ``code`` for ``path`` (``FILE:LINE:COL: error: ... [code]``)."""
    pattern = re.compile(
        rf"^{re.escape(str(path))}(?::(\d+):(\d+))?: error: .+ \[{re.escape(code)}\]$", re.MULTILINE
    )
    found = pattern.search(output)
    assert found, f"no [{code}] line for {path} in:\n{output}"
    return found


def refused(
    box: Sandbox, path: Path, code: str, line: int | None, *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``validate`` exits 1 with the problem on its line; ``run`` exits 78 with the same line."""
    checked = box.run("validate", str(path), env=env)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 1, f"validate exited {checked.returncode}:\n{output}"
    found = problem_line(checked.stdout, path, code)
    if line is not None:
        assert found.group(1) == str(line), f"expected line {line}: {found.group(0)}"
    assert "Traceback" not in output, output
    assert ZEN not in output, "a module was imported for its side effects"
    box.untouched()
    ran = box.run("run", str(path), env=env)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 78, f"run exited {ran.returncode}:\n{output}"
    problem_line(ran.stderr, path, code)
    assert "Traceback" not in output, output
    assert ZEN not in output, "a module was imported for its side effects"
    box.untouched()
    return checked


#: Line 10 holds ``{config}``; every case puts its hostile value there.
GRAPH = """\
version: 2
nodes:
  - id: cam
    kind: source
    plugin: synthetic_camera
    config: {{width: 64, height: 48, fps: 5, frames: 3}}
  - id: out
    kind: sink
    plugin: print_sink
    config: {config}
edges:
  - {{from: cam, to: out}}
"""
