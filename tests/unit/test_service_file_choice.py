"""Which service file, install scripts and interpreter a deployment root gets, per target OS.

The target OS is a parameter of ``layout_for``, so every branch runs on every CI runner; no
test patches ``sys.platform``.
"""

from __future__ import annotations

import pytest

from schnitzel_stream.deploy.layout import Answers, layout_for
from schnitzel_stream.paths import OsName

_INSTALL: dict[OsName, str] = {
    "linux": "/opt/schnitzel-stream/cam-1",
    "macos": "/usr/local/opt/schnitzel-stream/cam-1",
    "windows": r"C:\Program Files\SchnitzelStream\cam-1",
}


def _answers(os_name: OsName) -> Answers:
    return Answers(
        deployment_name="cam-1",
        target_os=os_name,
        scope="system",
        install_dir=_INSTALL[os_name],
        graph_profile="synthetic_demo",
        service_user=None if os_name == "windows" else "schnitzel",
    )


@pytest.mark.parametrize(
    ("os_name", "service_file", "scripts", "python"),
    [
        pytest.param(
            "linux",
            "schnitzel-stream-cam-1.service",
            ("install.sh", "uninstall.sh"),
            "/opt/schnitzel-stream/cam-1/venv/bin/python",
            id="linux-systemd-unit",
        ),
        pytest.param(
            "macos",
            "dev.schnitzel-stream.cam-1.plist",
            ("install.sh", "uninstall.sh"),
            "/usr/local/opt/schnitzel-stream/cam-1/venv/bin/python",
            id="macos-launchd-plist",
        ),
        pytest.param(
            "windows",
            "schnitzel-stream-cam-1.winsvc.json",
            ("install.ps1", "uninstall.ps1"),
            r"C:\Program Files\SchnitzelStream\cam-1\venv\Scripts\python.exe",
            id="windows-service-definition",
        ),
    ],
)
def test_each_os_gets_its_own_service_file_scripts_and_interpreter(
    os_name: OsName, service_file: str, scripts: tuple[str, str], python: str
) -> None:
    layout = layout_for(_answers(os_name))
    assert layout.service_file == service_file
    assert layout.install_scripts == scripts
    assert layout.python_path == python


@pytest.mark.parametrize(
    ("os_name", "state_dir"),
    [
        pytest.param("linux", "/var/lib/schnitzel-stream/cam-1", id="linux"),
        pytest.param("macos", "/usr/local/var/lib/schnitzel-stream/cam-1", id="macos"),
        pytest.param("windows", r"C:\ProgramData\SchnitzelStream\cam-1\state", id="windows"),
    ],
)
def test_system_scope_state_follows_the_design_table_per_os(os_name: OsName, state_dir: str) -> None:
    layout = layout_for(_answers(os_name))
    assert layout.state_dir == state_dir
    separator = "\\" if os_name == "windows" else "/"
    assert layout.graph_path == f"{layout.config_dir}{separator}graph.yaml"
