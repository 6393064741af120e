"""No module in the working directory is ever imported: services, install checks and validate.

A service's working directory is its writable state directory, and an operator runs
``validate`` wherever a graph is. ``python -m`` puts the current directory first on
``sys.path``, so a ``yaml.py`` dropped there would run inside the service. These tests drop a
hostile module for *every* top-level module the real command imports (found with
``-X importtime``), each of which leaves a marker file when imported, and run:

- the rendered unit's ``ExecStartPre=`` and ``ExecStart=`` commands exactly as written, with
  the unit's working directory full of hostile modules;
- ``python -m schnitzel_stream validate`` typed without ``-I``, and the console script;
- ``validate --deployment`` as the install scripts call it.

A control run (plain ``python -c 'import yaml'`` in the same directory) proves the hostile
modules would be imported by an interpreter that is not isolated.
"""

from __future__ import annotations

import json
import os
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from schnitzel_stream.deploy.envfile import read_env_file
from schnitzel_stream.deploy.service_files import parse_unit, split_command
from schnitzel_stream.paths import current_os
from schnitzel_stream.service.windows_spec import load_spec
from tests.template._support import REPO_ROOT, answers, copy_template, render

UNIT = "schnitzel-stream-edge-1.service"
GRAPH = REPO_ROOT / "ops" / "graphs" / "synthetic_camera.yaml"
_SCRUB = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "NOTIFY_SOCKET", "PYTHONSAFEPATH")
#: Modules the interpreter loads frozen or before the working directory joins sys.path; a
#: file of the same name cannot shadow them, and some (encodings) must stay importable.
_UNSHADOWABLE = {"schnitzel_stream", "encodings", "__main__", "builtins", "sys"}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB and not k.startswith("SCHNITZEL_")}
    return {**env, "NO_COLOR": "1", **extra}


def _imported_modules(argv: list[str], cwd: Path, env: dict[str, str]) -> set[str]:
    """Top-level names of every module ``argv`` (a Python command) imports, by -X importtime."""
    traced = [argv[0], "-X", "importtime", *argv[1:]]
    result = subprocess.run(
        traced, capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False
    )
    names = set()
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", line)
        if match:
            names.add(match.group(1).split(".")[0])
    assert "yaml" in names, result.stderr[-2000:]  # the trace worked: validate reads YAML
    return {name for name in names if name.isidentifier() and name not in _UNSHADOWABLE}


def _before_our_code() -> set[str]:
    """What ``python -m`` itself imports (runpy: importlib, collections, ...) after putting the
    working directory on sys.path but before any code of the package runs. No package can
    protect these; only ``-I``/``-P`` (which every rendered command uses) or the console script."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "schnitzel_stream", "--version"],
        capture_output=True, text=True, env=_env(), timeout=60, check=True,
    )  # fmt: skip
    names: set[str] = set()
    for line in result.stderr.splitlines():
        name = line.rpartition("|")[2].strip()
        if name == "schnitzel_stream":
            return {n.split(".")[0] for n in names}
        names.add(name)
    raise AssertionError(result.stderr)


def _plant(directory: Path, names: set[str], markers: Path) -> None:
    """A hostile ``<name>.py`` for each name: importing it writes ``markers/<name>``."""
    markers.mkdir(parents=True, exist_ok=True)
    for name in sorted(names | {"sitecustomize", "usercustomize"}):
        (directory / f"{name}.py").write_text(
            f"open({str(markers / name)!r}, 'w').close()\nraise SystemExit('hostile {name} imported')\n",
            encoding="utf-8",
        )


def _hit(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir())


@pytest.fixture
def hostile_dir(tmp_path: Path) -> tuple[Path, Path]:
    """A working directory with a hostile module for every module ``validate`` and ``run`` import."""
    work, markers = tmp_path / "work", tmp_path / "markers"
    work.mkdir()
    shutil.copy(GRAPH, work / "graph.yaml")
    probe = tmp_path / "probe"
    probe.mkdir()
    names = _imported_modules(
        [sys.executable, "-I", "-m", "schnitzel_stream", "validate", str(work / "graph.yaml")], probe, _env()
    ) | _imported_modules(
        [
            sys.executable, "-I", "-m", "schnitzel_stream", "run", str(work / "graph.yaml"),
            "--max-events", "1", "--state-dir", str(tmp_path / "s"), "--logs-dir", str(tmp_path / "l"),
        ],
        probe,
        _env(),
    )  # fmt: skip
    assert {"yaml", "numpy", "cv2", "argparse", "json"} <= names
    # jsonschema reports problems (a valid graph passes through jsonschema_rs alone).
    _plant(work, names | {"jsonschema", "jsonschema_rs"}, markers)
    return work, markers


def test_control_a_plain_interpreter_would_import_them(hostile_dir: tuple[Path, Path]) -> None:
    """Proof that the planted modules are live: without isolation, Python imports them."""
    work, markers = hostile_dir
    result = subprocess.run(
        [sys.executable, "-c", "import yaml"],
        cwd=work,
        env=_env(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert _hit(markers) == ["yaml"]


@pytest.mark.parametrize(
    "how",
    [
        pytest.param("python -m", id="python-m-without-I"),
        pytest.param("console script", id="console-script"),
        pytest.param("python -I -m", id="python-I-m"),
    ],
)
def test_validate_never_imports_from_the_working_directory(hostile_dir: tuple[Path, Path], how: str) -> None:
    work, markers = hostile_dir
    if how == "python -m":
        cpython_own = _before_our_code()
        assert "importlib" in cpython_own  # the trace worked
        for name in cpython_own:
            (work / f"{name}.py").unlink(missing_ok=True)
    prefix = {
        "python -m": [sys.executable, "-m", "schnitzel_stream"],
        "console script": [
            str(
                Path(sys.executable).parent
                / ("schnitzel-stream" + (".exe" if sys.platform == "win32" else ""))
            )
        ],
        "python -I -m": [sys.executable, "-I", "-m", "schnitzel_stream"],
    }[how]
    result = subprocess.run(
        [*prefix, "validate", "graph.yaml"], cwd=work, env=_env(), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert _hit(markers) == []
    assert result.returncode == 0, result.stdout + result.stderr
    assert "graph.yaml: valid" in result.stdout


def _venv_with_this_environment(venv: Path) -> Path:
    """A real virtual environment at ``venv`` that sees this test run's packages (a ``.pth``
    file: processed under ``-I`` too, which only drops the user site). Returns its python."""
    subprocess.run(
        ["uv", "venv", "--quiet", "--python", sys.executable, str(venv)],
        check=True, timeout=120, env={**_env(), "UV_PYTHON_DOWNLOADS": "never"},
    )  # fmt: skip
    windows = sys.platform == "win32"
    site = venv / "Lib" / "site-packages" if windows else next(venv.glob("lib/python3*/site-packages"))
    ours = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    lines = [f"import site; site.addsitedir({p!r})" for p in ours]
    (site / "zz_test_environment.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return venv / ("Scripts/python.exe" if windows else "bin/python")


def _service_commands(root: Path, os_name: str) -> tuple[list[list[str]], str, dict[str, str]]:
    """The commands the root's service file starts, its working directory and environment."""
    if os_name == "linux":
        unit = parse_unit((root / UNIT).read_text(encoding="utf-8"), UNIT)
        workdir, env_file = unit.last("Service", "WorkingDirectory"), unit.last("Service", "EnvironmentFile")
        assert workdir is not None and env_file is not None
        commands = [
            split_command(e.value) or []
            for e in unit.all("Service", "ExecStartPre") + unit.all("Service", "ExecStart")
        ]
        return commands, workdir.value, {**unit.environment(), **read_env_file(env_file.value).as_dict()}
    if os_name == "macos":
        plist = plistlib.loads((root / "dev.schnitzel-stream.edge-1.plist").read_bytes())
        return (
            [list(plist["ProgramArguments"])],
            plist["WorkingDirectory"],
            dict(plist["EnvironmentVariables"]),
        )
    # The service host in the foreground: what the SCM starts, without --scm.
    spec = load_spec(root / "schnitzel-stream-edge-1.winsvc.json")
    return [[arg for arg in spec.host_command() if arg != "--scm"]], spec.working_directory, {}


def test_the_rendered_service_commands_never_import_from_the_state_directory(
    hostile_dir: tuple[Path, Path], tmp_path: Path
) -> None:
    """The service file's commands for this OS, as written, in its writable working directory."""
    work, markers = hostile_dir
    os_name = current_os()
    root = tmp_path / "root"
    # A portable root installed in place, with a real venv where the answers put it.
    render(
        copy_template(tmp_path / "template"),
        root,
        answers(os_name, "portable", "synthetic_demo", install_dir=str(root)),
    )
    python = _venv_with_this_environment(root / "venv")
    if os_name != "windows":
        (root / "config" / "schnitzel-stream.env").chmod(0o600)
    commands, workdir, service_env = _service_commands(root, os_name)
    # The hostile modules move into the service's own working directory.
    Path(workdir).mkdir(parents=True, exist_ok=True)
    for module in work.glob("*.py"):
        shutil.copy(module, Path(workdir) / module.name)
    for argv in commands:
        assert Path(argv[0]) == python and argv[1] == "-I", argv
        if "--validate-only" not in argv:
            argv = [*argv, "--max-events", "2"]
        result = subprocess.run(
            argv,
            cwd=workdir,
            env=_env(**service_env),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert _hit(markers) == [], argv
        assert result.returncode == 0, f"{argv}: {result.stderr[-2000:]}"
    # validate --deployment, as the install script runs it from the new environment.
    script = (root / ("install.ps1" if os_name == "windows" else "install.sh")).read_text(encoding="utf-8")
    wanted = (
        "'Scripts\\python.exe') -I -m schnitzel_stream validate --deployment $Here"
        if os_name == "windows"
        else '/bin/python" -I -m schnitzel_stream validate --deployment'
    )
    assert wanted in script
    result = subprocess.run(
        # --venv: the packages are this run's (the .pth above), as install.sh passes its new venv.
        [str(python), "-I", "-m", "schnitzel_stream", "validate", "--deployment", str(root), "--venv", sys.prefix,
         "--format", "json"],
        cwd=workdir, env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert _hit(markers) == []
    # The only error allowed: this stand-in environment is the test's own interpreter, which may
    # live in a home directory the hardened unit hides (deploy.interpreter is right about it).
    errors = {
        p["code"]
        for f in json.loads(result.stdout)["files"]
        for p in f["problems"]
        if p["severity"] == "error"
    }
    assert errors <= {"deploy.interpreter"}, result.stdout
