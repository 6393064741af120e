"""ops/ci/service_smoke.py, the CI step that starts a rendered service command and stops it.

Each case runs the script for real against a small Python "service" that behaves well or
badly, so the step can be trusted to fail when a rendered command does not stop cleanly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SMOKE = REPO_ROOT / "ops" / "ci" / "service_smoke.py"

#: mode "good" stops on its OS's stop signal; "deaf" ignores it; "crash" dies during the run.
_SERVICE = """\
import signal, sys, time
mode = sys.argv[1]
name = "SIGBREAK" if sys.platform == "win32" else "SIGTERM"
stopped = []
handler = signal.SIG_IGN if mode == "deaf" else (lambda *_: stopped.append(name))
signal.signal(getattr(signal, name), handler)
print("graph demo started: 1 node", file=sys.stderr, flush=True)
if mode == "crash":
    time.sleep(0.2)
    sys.exit(3)
deadline = time.monotonic() + 60
while not stopped and time.monotonic() < deadline:
    time.sleep(0.02)
"""


def _smoke(tmp_path: Path, mode: str, *options: str) -> subprocess.CompletedProcess[str]:
    service = tmp_path / "service.py"
    service.write_text(_SERVICE, encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            str(SMOKE),
            "--run-seconds",
            "0.5",
            *options,
            "--",
            sys.executable,
            str(service),
            mode,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_service_that_stops_gracefully_passes(tmp_path: Path) -> None:
    done = _smoke(tmp_path, "good")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok: stopped gracefully" in done.stdout


@pytest.mark.parametrize(
    ("mode", "options", "message"),
    [
        pytest.param("deaf", ("--stop-timeout", "0.5"), "still running after 0.5s", id="ignores-the-stop"),
        pytest.param("crash", (), "exited during its run", id="crashes-while-running"),
        pytest.param(
            "good",
            ("--ready-text", "never logged", "--ready-timeout", "1"),
            "no 'never logged'",
            id="never-ready",
        ),
    ],
)
def test_a_misbehaving_service_fails_the_step(
    tmp_path: Path, mode: str, options: tuple[str, ...], message: str
) -> None:
    done = _smoke(tmp_path, mode, *options)
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stderr


def test_without_a_command_it_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, str(SMOKE)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "give the service command after --" in done.stderr
