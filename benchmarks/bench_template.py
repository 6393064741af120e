"""Deployment template speed (issue #4): rendering and validating deployment roots.

- one root: a fresh Python process renders a root with copier's API and validates it with
  ``validate_deployment`` (median wall time of several runs; target <= 1.5 s);
- the same as an operator types it: ``copier copy --defaults`` then ``schnitzel-stream validate
  --deployment`` as two commands, for context;
- a fleet: one fresh process renders and validates 50 roots, cycling through every OS, scope
  and profile (target <= 60 s).

The template is rendered from a plain copy of ``copier.yml``, ``templates/`` and
``ops/graphs/`` (a local directory is used as it is; from a git URL copier clones it once per
command).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, figure, heading

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
FLEET = 50

# The child measures from its own start, imports included: that is what a script pays.
_CHILD = """
import itertools, json, sys, time
started = time.perf_counter()
from pathlib import Path
from copier import run_copy
from schnitzel_stream.deploy.root import validate_deployment
template, out, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
combos = itertools.cycle(itertools.product(
    ("linux", "windows", "macos"), ("system", "user", "portable"),
    ("synthetic_demo", "rtsp_to_http_durable", "synthetic_to_http_durable", "synthetic_to_mqtt"),
))
invalid = 0
for index, (os_name, scope, profile) in zip(range(count), combos):
    data = {"deployment_name": f"edge-{index}", "target_os": os_name, "scope": scope,
            "graph_profile": profile, "backend_token": f"tok-{index:08d}"}
    root = out / f"edge-{index}"
    run_copy(template, root, data=data, defaults=True, quiet=True)
    invalid += not validate_deployment(root).valid
print(json.dumps({"seconds": time.perf_counter() - started, "invalid": invalid}))
"""


def _template(work: Path) -> Path:
    template = work / "template"
    template.mkdir()
    shutil.copy2(ROOT / "copier.yml", template / "copier.yml")
    shutil.copytree(ROOT / "templates", template / "templates")
    # The profiles' graphs are the reference graphs themselves (config/graph.yaml.jinja).
    shutil.copytree(ROOT / "ops" / "graphs", template / "ops" / "graphs")
    return template


def _child(template: Path, out: Path, count: int) -> tuple[float, float, int]:
    """(wall seconds of the whole process, seconds it measured itself, invalid roots)."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(template), str(out), str(count)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - started
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return wall, float(data["seconds"]), int(data["invalid"])


def _cli_pair(template: Path, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--defaults", "--quiet", str(template), str(out)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", "validate", "--deployment", str(out)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-template-"))
    try:
        template = _template(work)
        heading(f"deployment template (median of {RUNS} fresh processes)")
        walls = [_child(template, work / "one", 1) for _ in range(RUNS)]
        assert all(invalid == 0 for _, _, invalid in walls), "a rendered root did not validate"
        figure(
            "render + validate one root (fresh process, wall)",
            statistics.median(w for w, _, _ in walls),
            "s",
            "<= 1.5 s",
        )
        pairs = [_cli_pair(template, work / "cli") for _ in range(RUNS)]
        figure("copier copy CLI + validate --deployment CLI (two commands)", statistics.median(pairs), "s")
        wall, own, invalid = _child(template, work / "fleet", FLEET)
        assert invalid == 0, f"{invalid} fleet roots did not validate"
        figure(f"render + validate {FLEET} roots in one script (wall)", wall, "s", "<= 60 s")
        figure(f"  per root ({FLEET} roots, imports amortised)", own / FLEET, "s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
