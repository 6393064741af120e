"""The process-wide FFmpeg settings: concurrent opens by default, the operator's word first."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest

from schnitzel_stream.nodes.video import _ffmpeg_env
from schnitzel_stream.nodes.video._ffmpeg_env import THREAD_SAFE_ENV, allow_concurrent_opens


class _FakeCv2:
    """Records what OpenCV's log level was set to."""

    def __init__(self) -> None:
        self.levels: list[int] = []
        self.utils = SimpleNamespace(
            logging=SimpleNamespace(LOG_LEVEL_ERROR=2, setLogLevel=self.levels.append)
        )


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_ffmpeg_env, "_concurrent_opens_set", False)
    monkeypatch.delenv(THREAD_SAFE_ENV, raising=False)
    monkeypatch.delenv("OPENCV_LOG_LEVEL", raising=False)


@pytest.mark.usefixtures("fresh")
def test_opens_run_concurrently_and_opencv_s_warning_about_it_is_quiet() -> None:
    cv2: Any = _FakeCv2()
    allow_concurrent_opens(cv2)
    allow_concurrent_opens(cv2)  # once per process
    assert os.environ[THREAD_SAFE_ENV] == "1"
    assert cv2.levels == [2]


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize(
    ("env", "levels"),
    [
        pytest.param({THREAD_SAFE_ENV: "0"}, [], id="operator-wants-the-lock"),
        pytest.param({"OPENCV_LOG_LEVEL": "INFO"}, [], id="operator-sets-the-log-level"),
    ],
)
def test_the_operator_s_own_settings_win(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], levels: list[int]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cv2: Any = _FakeCv2()
    allow_concurrent_opens(cv2)
    assert os.environ[THREAD_SAFE_ENV] == env.get(THREAD_SAFE_ENV, "1")
    assert cv2.levels == levels
