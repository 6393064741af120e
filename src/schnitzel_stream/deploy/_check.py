"""One line of ``doctor``'s report, in a module of its own so that the doctor's check modules
(``doctor.py``, ``_doctor_network.py``) share it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Check", "Status"]

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    hint: str | None = None
