"""One line of ``doctor``'s report, in a module of its own so that the doctor's check modules
(``doctor.py``, ``_doctor_network.py``) share it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Check", "Status"]

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report: ``detail`` says what was found, ``hint`` how to fix it.

    Every warning and failure carries a hint: constructing one without is a programming
    error, so no check can slip through with a bare ``WARN``.
    """

    name: str
    status: Status
    detail: str
    hint: str | None = None

    def __post_init__(self) -> None:
        if self.status in ("warn", "fail") and not self.hint:
            raise ValueError(f"doctor check {self.name!r} ({self.status}) needs a fix hint")
