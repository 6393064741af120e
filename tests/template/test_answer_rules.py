"""One definition of the answers: copier's validators and validate --deployment agree.

copier.yml's validators apply ``_partials/answers.json`` through the Jinja macro of
``_partials/answers.jinja``; ``deploy/_answers.py`` applies the same file in Python. Here
both run over a table of valid and hostile answers and over Hypothesis-generated strings,
and must give the same verdict. The validators are rendered exactly as copier renders them:
its sandboxed Jinja environment with the ansible filters and a loader at the template root
(``tests/template/hostile_answers`` runs the real copier on the hostile cases).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

from schnitzel_stream.deploy._answers import check_answer, load_rules
from schnitzel_stream.deploy.layout import answers_from_mapping
from tests.template._support import REPO_ROOT

COPIER = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
_ENV = SandboxedEnvironment(
    loader=FileSystemLoader(str(REPO_ROOT)),
    extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
)
OSES = ("linux", "macos", "windows")


def copier_verdict(name: str, value: object, target_os: str) -> str:
    """What copier's validator for ``name`` renders (empty: valid)."""
    template = _ENV.from_string(COPIER[name]["validator"])
    return template.render({name: value, "target_os": target_os}).strip()


def python_verdict(name: str, value: object, target_os: str) -> str:
    return check_answer(name, value, target_os) or ""


TABLE: list[tuple[str, Any]] = [
    ("deployment_name", "edge-1"),
    ("deployment_name", "edge\nx"),
    ("deployment_name", "Edge"),
    ("deployment_name", "e" * 63),
    ("deployment_name", "e" * 64),
    ("deployment_name", "edge\u2028"),
    ("service_user", "schnitzel"),
    ("service_user", "root"),
    ("service_user", "ROOT"),
    ("service_user", "nobody"),
    ("service_user", "_schnitzel"),
    ("install_dir", "/opt/schnitzel-stream/edge-1"),
    ("install_dir", "/etc"),
    ("install_dir", "/etc/"),
    ("install_dir", "/Users"),
    ("install_dir", "/opt/a b"),
    ("install_dir", "/opt/a\nb"),
    ("install_dir", "/opt/../etc"),
    ("install_dir", "/opt/./x"),
    ("install_dir", "/opt/x%h"),
    ("install_dir", r"C:\Program Files\SchnitzelStream\edge-1"),
    ("install_dir", r"C:\Program Files"),
    ("install_dir", r"c:\windows\system32\x"),
    ("install_dir", "C:\\x\\"),
    ("install_dir", 'C:\\x"y'),
    ("user_home", "/home/edge"),
    ("user_home", "/Users/edge ops"),
    ("user_home", r"C:\Users\edge"),
    ("user_home", "~/edge"),
    ("camera_url", "rtsp://10.0.0.5:554/stream1"),
    ("camera_url", "rtsps://[fd00::5]:8554/live/1"),
    ("camera_url", "rtsp://admin:pw@10.0.0.5/x"),
    ("camera_url", "rtsp://10.0.0.5/x%20y"),
    ("camera_url", "rtsp://10.0.0.5/cam/realmonitor?channel=1&subtype=0"),
    ("camera_url", "rtsp://10.0.0.5/live?user=admin&password=x"),
    ("camera_url", "rtsp://10.0.0.5/live?authtoken=x"),
    ("camera_url", "rtsp://10.0.0.5/live#x"),
    ("metrics_port", 0),
    ("metrics_port", 9321),
    ("metrics_port", 1024),
    ("metrics_port", 65535),
    ("metrics_port", 80),
    ("metrics_port", 1),
    ("metrics_port", 65536),
    ("metrics_port", -1),
    ("metrics_port", True),
    ("metrics_port", 9321.0),
    ("metrics_port", "9321"),
    ("metrics_port", "9321\nExecStartPre=/bin/sh"),
    ("metrics_listen", "127.0.0.1"),
    ("metrics_listen", "0.0.0.0"),
    ("metrics_listen", "::"),
    ("metrics_listen", "10.0.0.5"),
    ("metrics_listen", "127.0.0.1 --log-level debug"),
    ("backend_url", "https://events.example.com/ingest"),
    ("backend_url", "https://events.example.com/in?X-Api-Key=k"),
    ("backend_url", "https://events.example.com/in?access-token=k"),
    ("backend_url", "https://events.example.com/in?sig=k"),
    ("backend_url", "https://events.example.com/in#k"),
    ("backend_url", "http://[::1]:8080/events"),
    ("backend_token", "tok-9f8e"),
    ("backend_token", "tok 9f8e"),
    ("backend_token", "tok\u00a0x"),
    ("mqtt_url", "mqtt://broker:1883"),
    ("mqtt_url", "mqtt://broker"),
    ("mqtt_password", "pw'\"$`\\%"),
    ("mqtt_password", "pw\x85"),
    ("camera_password", "pw\u2029"),
    ("mqtt_username", "edge@site"),
    ("camera_username", "admin;x"),
    ("restart_delay_sec", 5),
    ("restart_delay_sec", 0),
    ("restart_delay_sec", 3601),
    ("watchdog_sec", 4),
    ("log_max_mb", 1024),
]


@pytest.mark.parametrize("target_os", OSES)
@pytest.mark.parametrize(("name", "value"), TABLE, ids=[f"{n}={v!r}"[:60] for n, v in TABLE])
def test_table_agrees(name: str, value: Any, target_os: str) -> None:
    assert copier_verdict(name, value, target_os) == python_verdict(name, value, target_os)


def test_table_has_both_outcomes() -> None:
    """The agreement test can fail: the table holds valid and refused answers for each OS."""
    for target_os in OSES:
        verdicts = {bool(python_verdict(name, value, target_os)) for name, value in TABLE}
        assert verdicts == {True, False}


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(n for n in load_rules() if not n.endswith(("_sec", "_mb", "_port")))),
    value=st.text(st.characters(codec="utf-8"), max_size=40)
    | st.from_regex(r"(/[A-Za-z0-9._ -]{1,6}){1,3}", fullmatch=True)
    | st.from_regex(r"[A-Za-z]:(\\[A-Za-z0-9 ()]{1,5}){1,3}", fullmatch=True),
    target_os=st.sampled_from(OSES),
)
def test_generated_strings_agree(name: str, value: str, target_os: str) -> None:
    assert copier_verdict(name, value, target_os) == python_verdict(name, value, target_os)


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(sorted(n for n in load_rules() if n.endswith(("_sec", "_mb", "_port")))),
    value=st.integers(min_value=-10, max_value=5000) | st.integers(min_value=60000, max_value=70000),
)
def test_generated_numbers_agree(name: str, value: int) -> None:
    assert copier_verdict(name, value, "linux") == python_verdict(name, value, "linux")


def test_every_ruled_question_uses_the_rules() -> None:
    """Every question with rules validates through them, and every rule names a question."""
    ruled = set(load_rules())
    questions = {name for name in COPIER if not name.startswith("_")}
    assert ruled <= questions
    for name in ruled:
        assert f"check('{name}', {name}, target_os)" in COPIER[name]["validator"], name


def test_validate_deployment_refuses_what_copier_refuses() -> None:
    """The bug this replaces: copier refused install_dir /etc, validate --deployment took it."""
    stored = {
        "deployment_name": "edge-1",
        "target_os": "linux",
        "scope": "portable",
        "graph_profile": "synthetic_demo",
        "service_user": "schnitzel",
        "install_dir": "/etc",
    }
    assert copier_verdict("install_dir", "/etc", "linux")
    _answers, problems = answers_from_mapping(stored, Path(".copier-answers.yml").name)
    assert [problem.path for problem in problems] == ["install_dir"]
