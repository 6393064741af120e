"""copier.yml: the template an operator can render without --trust, from the repository root."""

from __future__ import annotations

from typing import Any

import yaml

from tests.template._support import REPO_ROOT

#: copier settings that run template code or load code, so they would need --trust.
UNSAFE = ("_tasks", "_migrations", "_jinja_extensions", "_external_data")


def _config() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_no_trust_needed() -> None:
    config = _config()
    assert not [key for key in UNSAFE if key in config]
    assert config["_subdirectory"] == "templates/deployment"
    assert (REPO_ROOT / config["_subdirectory"]).is_dir()


def test_secrets_are_secret_with_defaults() -> None:
    config = _config()
    for name in ("camera_password", "backend_token", "mqtt_password"):
        assert config[name]["secret"] is True
        assert config[name]["default"] == ""
        assert config[name]["validator"]


def test_every_question_helps_and_validates() -> None:
    config = _config()
    asked = {
        name: spec
        for name, spec in config.items()
        if not name.startswith("_") and spec.get("when") is not False
    }
    assert len(asked) >= 17
    for name, spec in asked.items():
        assert spec.get("help"), f"{name} has no help text"
        assert spec.get("validator") or spec.get("choices"), f"{name} is not validated"


def test_env_file_survives_updates() -> None:
    assert "config/schnitzel-stream.env" in _config()["_skip_if_exists"]
    ignored = (REPO_ROOT / "templates" / "deployment" / ".gitignore").read_text(encoding="utf-8")
    assert "/config/schnitzel-stream.env" in ignored.splitlines()
