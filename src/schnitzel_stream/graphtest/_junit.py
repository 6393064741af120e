"""JUnit XML, the test report CI systems ingest (Jenkins, GitLab, GitHub test reporters).

The output validates against both schemas CI tools are written to: the Jenkins xUnit
plugin's ``junit-10.xsd`` and the stricter Apache Ant schema (windyroad ``JUnit.xsd``),
which is why ``<testsuites>`` carries no attributes, every ``<testsuite>`` has
``<properties>``, ``<system-out>`` and ``<system-err>``, and a test case holds at most one
``<failure>`` or ``<error>`` (its text lists every failed expectation).

One ``<testsuite>`` per test file, one ``<testcase>`` per case; an invalid test file is a
suite with one errored case, so CI shows it instead of silently running fewer tests.
"""

from __future__ import annotations

import re
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from schnitzel_stream.errors import Problem
from schnitzel_stream.graphtest._results import CaseResult, FileResult, RunResults

# Characters XML 1.0 cannot hold at all, even escaped (NUL, most C0 controls, lone surrogates).
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_INVALID_FILE_CASE = "test file"


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _problems_text(problems: Sequence[Problem]) -> str:
    lines = []
    for problem in problems:
        label = "warning" if problem.severity == "warning" else "error"
        lines.append(f"{label}: {problem.one_line()} [{problem.code}]")
    return "\n".join(lines)


def _outcome(parent: ET.Element, tag: str, problems: Sequence[Problem], logs: Sequence[str] = ()) -> None:
    first = problems[0] if problems else None
    element = ET.SubElement(parent, tag)
    element.set("type", _clean(first.code if first else tag))
    element.set("message", _clean(first.one_line() if first else tag))
    text = _problems_text(problems)
    if logs:
        text += "\n\ngraph log:\n" + "\n".join(logs)
    element.text = _clean(text)


def _suite(results_file: FileResult, index: int, hostname: str) -> ET.Element:
    cases = results_file.cases
    invalid = not results_file.valid
    suite = ET.Element("testsuite")
    suite.set("name", _clean(results_file.path))
    suite.set("package", _clean(results_file.path))
    suite.set("id", str(index))
    suite.set("tests", str(1 if invalid else len(cases)))
    suite.set("failures", str(sum(1 for case in cases if case.status == "failed")))
    suite.set("errors", str(1 if invalid else sum(1 for case in cases if case.status == "error")))
    suite.set("skipped", "0")
    suite.set("time", _seconds(results_file.duration))
    suite.set("timestamp", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(results_file.started)))
    suite.set("hostname", hostname)
    ET.SubElement(suite, "properties")
    if invalid:
        case = ET.SubElement(suite, "testcase")
        case.set("name", _INVALID_FILE_CASE)
        case.set("classname", _clean(results_file.path))
        case.set("time", _seconds(0.0))
        _outcome(case, "error", results_file.problems)
    for result in cases:
        _case(suite, results_file.path, result)
    logs = [f"{result.name}: {line}" for result in cases for line in result.logs]
    ET.SubElement(suite, "system-out").text = ""
    ET.SubElement(suite, "system-err").text = _clean("\n".join(logs))
    return suite


def _case(suite: ET.Element, path: str, result: CaseResult) -> None:
    case = ET.SubElement(suite, "testcase")
    case.set("name", _clean(result.name))
    case.set("classname", _clean(path))
    case.set("time", _seconds(result.duration))
    if result.status == "failed":
        _outcome(case, "failure", result.problems, result.logs)
    elif result.status == "error":
        _outcome(case, "error", result.problems, result.logs)


def junit_xml(results: RunResults, hostname: str | None = None) -> str:
    """The whole report as a UTF-8 JUnit XML document (with its declaration)."""
    host = _clean(hostname or socket.gethostname() or "localhost").strip() or "localhost"
    root = ET.Element("testsuites")
    for index, results_file in enumerate(results.files):
        root.append(_suite(results_file, index, host))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
