"""``schnitzel-stream paths``: print the resolved path classes and where each came from."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from schnitzel_stream import _json
from schnitzel_stream.cli import _common
from schnitzel_stream.paths import PATH_CLASSES


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Print the directories that ${config}, ${state} and ${logs} resolve to, and where each "
        "value came from (scope default, environment variable or command line)."
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    _common.add_path_options(parser)
    parser.set_defaults(handler=paths_command)


def paths_command(args: argparse.Namespace) -> int:
    resolved = _common.paths_from_args(args)
    if args.format == "json":
        payload: dict[str, Any] = {"scope": resolved.scope, **resolved.as_dict()}
        payload["sources"] = {name: resolved.source_of(name) for name in PATH_CLASSES}
        sys.stdout.write(_json.dumps(payload, indent=2) + "\n")
        return 0
    sys.stdout.write(f"scope   {resolved.scope}\n")
    for name in PATH_CLASSES:
        sys.stdout.write(f"{name:<7} {resolved.get(name)}  ({resolved.source_of(name)})\n")
    return 0
