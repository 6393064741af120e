"""``schnitzel-stream graph FILE --format mermaid|dot``: print a picture of a graph's topology."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from schnitzel_stream.cli import _common
from schnitzel_stream.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Validate a graph and print its topology: every node with its plugin and kind, the edges, "
        "and each durable queue as its own node joined to the queue nodes that use it. Mermaid "
        "(the default) renders on GitHub and in most Markdown viewers inside a ```mermaid block; "
        "DOT renders with Graphviz (dot -Tsvg). An invalid graph prints the validate report and "
        "exits 1."
    )
    parser.add_argument("path", metavar="FILE", help="the graph file")
    parser.add_argument(
        "--format", choices=("mermaid", "dot"), default="mermaid", help="mermaid (default) or dot"
    )
    parser.add_argument(
        "--output", metavar="FILE", help="write the diagram to FILE instead of standard output"
    )
    _common.add_path_options(parser)
    parser.set_defaults(handler=graph_command)


def graph_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.graph import report
    from schnitzel_stream.graph.draw import draw
    from schnitzel_stream.graph.validate import ValidateOptions, validate_path

    options = ValidateOptions.from_environment(paths=_common.paths_from_args(args))
    graph, file_report = validate_path(args.path, options)
    if graph is None:
        report.render_text(report.Report(files=(file_report,)), sys.stderr)
        return 1
    text = draw(graph, args.format)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}", code="usage") from None
    else:
        sys.stdout.write(text)
    return 0
