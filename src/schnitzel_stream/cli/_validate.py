"""``schnitzel-stream validate``: check graph files against the schema and the semantic rules."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser("validate", help="check graph files")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.set_defaults(handler=validate_command)


def validate_command(args: argparse.Namespace) -> int:
    raise NotImplementedError


def validate_from_graph_option(args: argparse.Namespace) -> int:
    raise NotImplementedError
