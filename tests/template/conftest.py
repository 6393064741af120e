"""Fixtures of the template tests: one plain copy of the template per worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.template._support import copy_template


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template, copied once per xdist worker (tests never change it)."""
    return copy_template(tmp_path_factory.mktemp("template"))
