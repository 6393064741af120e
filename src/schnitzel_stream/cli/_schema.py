"""``schnitzel-stream schema``: print the published JSON Schemas."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser("schema", help="print the graph JSON Schema")
    parser.set_defaults(handler=schema_command)


def schema_command(args: argparse.Namespace) -> int:
    raise NotImplementedError
