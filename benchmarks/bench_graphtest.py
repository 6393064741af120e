"""``schnitzel-stream test`` speed (issue #13): what a pre-deploy check or a CI step waits for.

- one case of the README's synthetic graph (its camera made a 60-frame, unpaced one, the
  sink captured and checked): wall time of the whole command, startup included (target <= 1.0 s);
- 20 such cases in one call (target <= 5 s);
- for context: bare interpreter start, ``import numpy, cv2`` (what any run of a camera graph
  pays once), and ``schnitzel-stream --help``.

The graph is taken from the README's "A graph" section itself, so the figure is about the
graph a newcomer reads. Every figure is the median of fresh processes; the child's CPU time
is printed beside the wall time, since other work on a shared machine inflates only the latter.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, console_script, heading, process_figure

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
CASE = """\
  - name: motion reaches the sink {n}
    replace:
      cam: {{plugin: synthetic_camera, config: {{width: 640, height: 360, fps: 15, frames: 60, realtime: false}}}}
    capture: [out]
    expect:
      out:
        count: {{min: 1}}
        schema: {schema}
        all: {{kind: event}}
        any: {{payload: {{event_type: motion}}}}
"""


def readme_graph() -> str:
    """The YAML block of the README's "A graph" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## A graph") :]
    found = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    if found is None:
        raise SystemExit("README.md has no yaml block under '## A graph'")
    return found.group(1)


def test_file(cases: int) -> str:
    schema = (ROOT / "schemas" / "event.schema.json").as_posix()
    body = "".join(CASE.format(n=n, schema=schema) for n in range(cases))
    return f"version: 1\ngraph: graph.yaml\ncases:\n{body}"


def main() -> None:
    script = console_script()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "graph.yaml").write_text(readme_graph(), encoding="utf-8")
        one = root / "one.test.yaml"
        one.write_text(test_file(1), encoding="utf-8")
        twenty = root / "twenty.test.yaml"
        twenty.write_text(test_file(20), encoding="utf-8")

        heading(f"test: fresh processes, median of {RUNS} runs")
        process_figure("python -c pass", [sys.executable, "-c", "pass"], RUNS)
        process_figure("python -c 'import numpy, cv2'", [sys.executable, "-c", "import numpy, cv2"], RUNS)
        process_figure("schnitzel-stream --help", [*script, "--help"], RUNS)
        process_figure(
            "schnitzel-stream test: 1 case, README graph, 60 frames",
            [*script, "test", str(one)],
            RUNS,
            "<= 1.0 s",
        )
        process_figure(
            "schnitzel-stream test: 20 such cases, one call",
            [*script, "test", str(twenty)],
            max(3, RUNS // 2),
            "<= 5 s",
        )


if __name__ == "__main__":
    main()
