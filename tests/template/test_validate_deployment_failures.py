"""`validate --deployment` on broken roots: each failure mode is found, located and explained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schnitzel_stream.deploy.root import DeploymentOptions, validate_deployment
from tests.template._support import SECRETS, answers, cli, problems_of, render


def _root(template_dir: Path, tmp_path: Path, os_name: str = "linux", **extra: Any) -> Path:
    return render(
        template_dir, tmp_path / "root", answers(os_name, "system", "synthetic_to_http_durable", **extra)
    )


def _validate_json(root: Path) -> tuple[int, list[dict[str, Any]]]:
    result = cli("validate", "--deployment", str(root), "--format", "json")
    return result.returncode, problems_of(json.loads(result.stdout))


def _codes(root: Path, **options: Any) -> dict[str, list[Any]]:
    report = validate_deployment(root, DeploymentOptions(**options))
    found: dict[str, list[Any]] = {}
    for file in report.files:
        for problem in file.problems:
            found.setdefault(problem.code, []).append(problem)
    return found


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_missing_env_var(template_dir: Path, tmp_path: Path) -> None:
    root = _root(template_dir, tmp_path)
    env = root / "config" / "schnitzel-stream.env"
    env.write_text(
        "\n".join(
            line
            for line in env.read_text(encoding="utf-8").splitlines()
            if "SCHNITZEL_BACKEND_AUTH" not in line
        ),
        encoding="utf-8",
    )
    code, problems = _validate_json(root)
    assert code == 1
    missing = [p for p in problems if p["code"] == "deploy.env-missing"]
    assert len(missing) == 1
    graph = root / "config" / "graph.yaml"
    assert missing[0]["file"] == str(graph)
    assert missing[0]["line"] == _line_of(graph, "Authorization: SCHNITZEL_BACKEND_AUTH")
    assert "SCHNITZEL_BACKEND_AUTH" in missing[0]["message"]
    assert "config/schnitzel-stream.env" in missing[0]["hint"]


def test_graph_uses_an_undefined_variable(template_dir: Path, tmp_path: Path) -> None:
    root = _root(template_dir, tmp_path)
    graph = root / "config" / "graph.yaml"
    _edit(graph, 'source_id: "${SCHNITZEL_SOURCE_ID:-cam}"', 'source_id: "${SCHNITZEL_SITE}-cam"')
    code, problems = _validate_json(root)
    assert code == 1
    [found] = [p for p in problems if p["code"] == "interp.missing-env"]
    assert found["line"] == _line_of(graph, "SCHNITZEL_SITE")
    assert found["path"] == "nodes[0].config.source_id"
    assert "add SCHNITZEL_SITE=" in found["hint"]


def test_wrong_graph_path_in_the_unit(template_dir: Path, tmp_path: Path) -> None:
    root = _root(template_dir, tmp_path)
    unit = root / "schnitzel-stream-edge-1.service"
    _edit(
        unit,
        "-m schnitzel_stream --graph /etc/schnitzel-stream/edge-1/graph.yaml --log-file",
        "-m schnitzel_stream --graph /etc/schnitzel-stream/other/graph.yaml --log-file",
    )
    code, problems = _validate_json(root)
    assert code == 1
    [found] = [p for p in problems if p["code"] == "deploy.graph-path"]
    assert found["file"] == str(unit)
    assert found["line"] == _line_of(unit, "ExecStart=")
    assert "/etc/schnitzel-stream/other/graph.yaml" in found["message"]

    text = cli("validate", "--deployment", str(root))
    assert text.returncode == 1
    assert f"{unit}:{found['line']}: error:" in text.stdout


def test_secret_in_the_answers_file(template_dir: Path, tmp_path: Path) -> None:
    root = _root(template_dir, tmp_path)
    answers_file = root / ".copier-answers.yml"
    with answers_file.open("a", encoding="utf-8") as handle:
        handle.write(f"backend_token: {SECRETS['backend_token']}\n")
    code, problems = _validate_json(root)
    assert code == 1
    [stored] = [p for p in problems if p["code"] == "deploy.secret-in-answers"]
    assert stored["line"] == _line_of(answers_file, "backend_token:")
    assert stored["path"] == "backend_token"
    assert any(p["code"] == "deploy.secret-leak" and p["file"] == str(answers_file) for p in problems)


def test_password_in_a_graph_url(template_dir: Path, tmp_path: Path) -> None:
    root = _root(template_dir, tmp_path)
    graph = root / "config" / "graph.yaml"
    _edit(
        graph,
        '"${SCHNITZEL_BACKEND_URL:-http://127.0.0.1:8080/events}"',
        '"https://edge:hunter22@events.example.com/ingest"',
    )
    found = _codes(root)
    [leak] = found["deploy.secret-leak"]
    assert leak.file == str(graph)
    assert leak.line == _line_of(graph, "hunter22")


def test_env_value_copied_into_the_graph(template_dir: Path, tmp_path: Path) -> None:
    root = _root(template_dir, tmp_path)
    graph = root / "config" / "graph.yaml"
    _edit(graph, "      timeout_sec: 5\n", "      headers: {X-Key: tok-9f8e7d6c5b4a}\n      timeout_sec: 5\n")
    found = _codes(root)
    assert [p.line for p in found["deploy.secret-leak"]] == [_line_of(graph, "X-Key")]


def test_env_file_readable_by_others_is_a_warning(template_dir: Path, tmp_path: Path) -> None:
    root = _root(template_dir, tmp_path)
    env = root / "config" / "schnitzel-stream.env"
    env.chmod(0o644)
    code, problems = _validate_json(root)
    assert code == 0
    assert [(p["code"], p["severity"]) for p in problems if p["file"] == str(env)] == [
        ("deploy.env-mode", "warning")
    ]
    env.chmod(0o600)
    code, problems = _validate_json(root)
    assert code == 0
    # A rendered root has no bundle yet (schnitzel-stream bundle): that warning, and nothing else.
    assert [p["code"] for p in problems] == ["deploy.bundle-missing"]


@pytest.mark.parametrize(
    ("os_name", "file", "old", "new", "code"),
    [
        pytest.param(
            "linux",
            "schnitzel-stream-edge-1.service",
            "User=schnitzel",
            "User=root",
            "deploy.user",
            id="unit-root-user",
        ),
        pytest.param(
            "linux",
            "schnitzel-stream-edge-1.service",
            "RestartPreventExitStatus=78",
            "",
            "deploy.unit",
            id="unit-restart-loop",
        ),
        pytest.param(
            "linux",
            "schnitzel-stream-edge-1.service",
            "EnvironmentFile=/etc/schnitzel-stream/edge-1/schnitzel-stream.env",
            "EnvironmentFile=/etc/other.env",
            "deploy.env-path",
            id="unit-env-file",
        ),
        pytest.param(
            "linux",
            "schnitzel-stream-edge-1.service",
            "Environment=SCHNITZEL_STREAM_STATE_DIR=/var/lib/schnitzel-stream/edge-1",
            "Environment=SCHNITZEL_STREAM_STATE_DIR=/tmp/state",
            "deploy.paths",
            id="unit-state-dir",
        ),
        pytest.param(
            "macos",
            "dev.schnitzel-stream.edge-1.plist",
            "<string>dev.schnitzel-stream.edge-1</string>",
            "<string>com.example.other</string>",
            "deploy.plist",
            id="plist-label",
        ),
        pytest.param(
            "macos",
            "dev.schnitzel-stream.edge-1.plist",
            "<string>--env-file</string>",
            "<string>--log-level</string>",
            "deploy.env-path",
            id="plist-no-env-file",
        ),
        pytest.param(
            "windows",
            "schnitzel-stream-edge-1.winsvc.json",
            '"account": "NT AUTHORITY\\\\LocalService"',
            '"account": "NT AUTHORITY\\\\NetworkService"',
            "deploy.winsvc",
            id="winsvc-other-account",
        ),
        pytest.param(
            "windows",
            "schnitzel-stream-edge-1.winsvc.json",
            '"restart_delay_sec": 5',
            '"restart_delay_sec": 600',
            "deploy.winsvc",
            id="winsvc-restart-delay",
        ),
        pytest.param(
            "windows",
            "schnitzel-stream-edge-1.winsvc.json",
            "SchnitzelStream\\\\edge-1\\\\config\\\\graph.yaml",
            "SchnitzelStream\\\\edge-2\\\\config\\\\graph.yaml",
            "deploy.graph-path",
            id="winsvc-graph-path",
        ),
    ],
)
def test_service_file_drift(
    template_dir: Path, tmp_path: Path, os_name: str, file: str, old: str, new: str, code: str
) -> None:
    root = _root(template_dir, tmp_path, os_name)
    assert validate_deployment(root).valid
    _edit(root / file, old, new)
    report = validate_deployment(root)
    assert not report.valid
    assert code in {p.code for f in report.files for p in f.problems if p.severity == "error"}


def test_missing_service_file(template_dir: Path, tmp_path: Path) -> None:
    root = _root(template_dir, tmp_path, "windows")
    (root / "schnitzel-stream-edge-1.winsvc.json").unlink()
    assert "deploy.service-missing" in _codes(root)


def test_lock_drift_against_a_venv(template_dir: Path, tmp_path: Path) -> None:
    root = _root(template_dir, tmp_path)
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion_info = 3.11.7\n", encoding="utf-8")
    (site / "PyYAML-5.4.dist-info").mkdir()
    found = _codes(root, venv=str(venv))
    messages = [p.message for p in found["lock.drift"]]
    assert any(m.startswith("the lock pins pyyaml==") and m.endswith("has 5.4") for m in messages)
    assert any(
        m.startswith("the lock pins jsonschema==") and m.endswith("does not have it") for m in messages
    )
    # Drift is only looked for when there is a venv to compare: the same root without one is valid.
    assert "lock.drift" not in _codes(root)


def test_not_a_root(tmp_path: Path) -> None:
    code, problems = _validate_json(tmp_path)
    assert code == 1
    assert [p["code"] for p in problems] == ["deploy.root"]
    assert ".copier-answers.yml" in problems[0]["message"]


def test_usage_errors(tmp_path: Path) -> None:
    assert cli("validate", "--deployment", str(tmp_path), "graph.yaml").returncode == 2
    assert cli("validate").returncode == 2
    assert cli("validate", "x.yaml", "--venv", str(tmp_path)).returncode == 2


def test_github_format(template_dir: Path, tmp_path: Path) -> None:
    root = _root(template_dir, tmp_path)
    _edit(root / "schnitzel-stream-edge-1.service", "Type=notify", "Type=simple")
    result = cli("validate", "--deployment", str(root), "--format", "github")
    assert result.returncode == 1
    unit = root / "schnitzel-stream-edge-1.service"
    assert f"::error file={unit},line={_line_of(unit, 'Type=simple')},title=deploy.unit::" in result.stdout


def test_state_dir_not_writable_by_the_service_account(template_dir: Path, tmp_path: Path) -> None:
    """On the target OS, an existing path class must be usable by the account in the answers."""
    install_dir = tmp_path / "opt" / "edge-1"
    data = answers(
        "linux", "portable", "synthetic_demo", install_dir=str(install_dir), service_user="www-data"
    )
    root = render(template_dir, tmp_path / "root", data)
    state = install_dir / "state"
    state.mkdir(parents=True)
    state.chmod(0o700)  # owned by the test's account, not by www-data
    found = _codes(root)
    [problem] = found["deploy.paths"]
    assert "'www-data' cannot write to ${state}" in problem.message
    state.chmod(0o777)
    assert "deploy.paths" not in _codes(root)
    assert "deploy.paths" not in _codes(root, check_paths=False)


def test_missing_service_account_is_a_warning(template_dir: Path, tmp_path: Path) -> None:
    data = answers(
        "linux",
        "portable",
        "synthetic_demo",
        install_dir=str(tmp_path / "opt"),
        service_user="no-such-user-x",
    )
    root = render(template_dir, tmp_path / "root", data)
    report = validate_deployment(root)
    assert report.valid
    [warning] = [p for f in report.files for p in f.problems if p.code == "deploy.account"]
    assert warning.severity == "warning"
