"""``schnitzel-stream schema``: print the published JSON Schemas.

``schemas/<name>.schema.json`` in the repository are exactly this command's output; a test
fails when one is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from schnitzel_stream.errors import UsageError

#: Kept here as well as in graph/schema.py and graphtest/ so that ``--help`` imports neither.
_NAMES = ("graph", "event", "validate-report", "graph-test", "test-report")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Print a published JSON Schema (draft 2020-12): 'graph' (the graph document, with the "
        "config schema of every built-in node), 'event' (a motion event's payload), "
        "'validate-report' (the output of 'validate --format json'), 'graph-test' (a "
        "*.test.yaml file) or 'test-report' (the output of 'test --format json')."
    )
    parser.add_argument("--name", choices=_NAMES, default="graph", help="which schema (default: graph)")
    parser.add_argument(
        "--output", metavar="PATH", help="write the schema to PATH instead of standard output"
    )
    parser.set_defaults(handler=schema_command)


def schema_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.graph.schema import PUBLISHED_SCHEMAS, published_schema, schema_text

    if args.name in PUBLISHED_SCHEMAS:
        schema = published_schema(args.name)
    else:
        from schnitzel_stream import graphtest

        schema = graphtest.published_schema(args.name)
    text = schema_text(schema)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise UsageError(
            f"cannot write the schema to {args.output}: {exc.strerror}", code="usage.output"
        ) from None
    return 0
