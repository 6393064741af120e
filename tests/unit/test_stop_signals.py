"""Stop signals: the first stops gracefully, a second exits at once, and one key press that
arrives twice (the terminal's and ``uv run``'s forwarded copy) is still one request."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest

from schnitzel_stream.runtime import signals

SCRIPT = textwrap.dedent(
    """
    import signal, sys
    from schnitzel_stream.runtime import logs, signals

    class Target:
        stop_requested = None

    logs.configure(fmt=sys.argv[1], environ={{}})
    now = [0.0]
    target = Target()
    signals.install(target, clock=lambda: now[0])
    for at, name in {deliveries}:
        now[0] = at
        signal.getsignal(getattr(signal, name))(getattr(signal, name), None)
        print(f"{{at}} {{name}} -> {{target.stop_requested}}", flush=True)
    print("still running", flush=True)
    """
)


def _deliver(deliveries: list[tuple[float, str]], fmt: str = "text") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(deliveries=deliveries), fmt],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_same_signal_twice_within_the_window_is_one_graceful_stop() -> None:
    done = _deliver([(0.0, "SIGINT"), (signals.REPEAT_WINDOW_SEC / 2, "SIGINT")])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "still running"
    assert "without draining" not in done.stderr


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        pytest.param((signals.REPEAT_WINDOW_SEC + 0.1, "SIGINT"), signal.SIGINT, id="same-signal-later"),
        pytest.param((0.01, "SIGTERM"), signal.SIGTERM, id="another-signal-at-once"),
    ],
)
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_deliberate_second_signal_exits_at_once_with_one_log_line(
    second: tuple[float, str], expected: int, fmt: str
) -> None:
    done = _deliver([(0.0, "SIGINT"), second], fmt)
    assert done.returncode == 128 + expected
    assert "still running" not in done.stdout
    (line,) = done.stderr.splitlines()
    message = json.loads(line)["message"] if fmt == "json" else line
    assert message.endswith(f"second {second[1]}: exiting now without draining")
