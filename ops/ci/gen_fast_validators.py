"""Generate ``src/schnitzel_stream/graph/_fast_validators/``, the fast path of ``validate``.

``jsonschema`` takes about 0.13 s to import, more than the rest of ``validate`` together. Most
graphs are valid, and a valid config needs no error messages, only a yes. So at development
time this script compiles every built-in node's config schema, the document skeleton and
``__runtime__`` into plain Python with ``fastjsonschema.compile_to_code``; ``validate`` runs
those first and imports ``jsonschema`` only when one says no (or has nothing to say, as for
third-party plugins). The jsonschema path then finds and words every problem as before.

fastjsonschema implements draft 7, our schemas are 2020-12. :func:`draft7_problems` refuses
every keyword whose meaning differs between the two (the schemas here use none of them), and
:func:`as_draft7` rewrites the few that have a draft-7 spelling or that fastjsonschema reads
differently from jsonschema:

- ``dependentRequired`` becomes draft 7's ``dependencies`` (same meaning);
- ``const`` becomes a one-value ``enum`` (same meaning; fastjsonschema cannot generate ``const``
  without its detailed exceptions);
- ``$`` in a ``pattern`` becomes ``(?=\\n?\\Z)``: fastjsonschema turns a bare ``$`` into ``\\Z``,
  but jsonschema uses ``re.search`` where ``$`` also matches before a final newline;
- ``format`` is not asserted (``use_formats=False``), as jsonschema does not without a format
  checker; defaults are not filled in (``use_default=False``): the config is not touched;
- ``(list, tuple)`` in the generated code becomes ``list``: JSON Schema arrays are lists to
  jsonschema.

Run from the repository root (``--check`` exits 1 when the committed package is stale)::

    uv run python ops/ci/gen_fast_validators.py
    uv run python ops/ci/gen_fast_validators.py --check
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET = REPO_ROOT / "src" / "schnitzel_stream" / "graph" / "_fast_validators"
REGENERATE = "uv run python ops/ci/gen_fast_validators.py"
DRAFT7 = "http://json-schema.org/draft-07/schema#"

#: Keywords that only annotate: neither validator asserts them.
ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$comment"}
)
#: Assertions that mean the same in draft 7 and 2020-12 (after :func:`as_draft7`).
ASSERTIONS = frozenset(
    {
        "type",
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "required",
        "dependentRequired",
        "format",
    }
)
#: Keywords whose value is one subschema, a mapping of them, or a list of them.
SUBSCHEMA = frozenset({"items", "additionalProperties", "not"})
SUBSCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs"})
SUBSCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
#: Everything a schema compiled here may use, besides ``$ref`` and the root's ``$schema``/``$id``.
DRAFT7_COMPATIBLE = ANNOTATIONS | ASSERTIONS | SUBSCHEMA | SUBSCHEMA_MAPS | SUBSCHEMA_LISTS
_JSON_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})
_LINE_END = r"(?=\n?\Z)"


def schemas() -> dict[str, dict[str, Any]]:
    """Every schema the fast path covers, by the name ``schema.py`` looks it up with."""
    from schnitzel_stream.graph.schema import RUNTIME_SCHEMA, skeleton_schema
    from schnitzel_stream.nodes.registry import builtin_specs

    found: dict[str, dict[str, Any]] = {"skeleton": skeleton_schema(), "runtime": dict(RUNTIME_SCHEMA)}
    for name, spec in builtin_specs().items():
        found[f"config.{name}"] = dict(spec.schema)
    return found


# -- the draft-7 check -------------------------------------------------------------------------


def draft7_problems(schema: Any) -> list[str]:
    """Why ``schema`` cannot be compiled as draft 7 with the same verdicts (empty when it can)."""
    problems: list[str] = []
    for where, node in _subschemas(schema, "#", problems):
        for key, value in node.items():
            if key in ("$schema", "$id") and where == "#":
                continue
            if key == "$ref":
                problems.extend(_ref_problems(where, node, value))
            elif key not in DRAFT7_COMPATIBLE:
                problems.append(f"{where}: keyword {key!r} is not draft-7 compatible")
            elif key == "items" and not isinstance(value, (dict, bool)):
                problems.append(f"{where}: 'items' must be one schema (a list means prefixItems)")
            elif key == "type" and not set(value if isinstance(value, list) else [value]) <= _JSON_TYPES:
                problems.append(f"{where}: unknown type {value!r}")
            elif key == "pattern":
                problems.extend(_pattern_problems(where, value))
            elif key == "patternProperties":
                for pattern in value:
                    problems.extend(_pattern_problems(where, pattern))
            elif key == "const" and "enum" in node:
                problems.append(f"{where}: 'const' beside 'enum' is not supported")
            elif key == "dependentRequired" and "dependencies" in node:
                problems.append(f"{where}: 'dependentRequired' beside 'dependencies' is not supported")
    return problems


def _ref_problems(where: str, node: Mapping[str, Any], ref: Any) -> list[str]:
    problems = []
    if not (isinstance(ref, str) and ref.startswith("#/")):
        problems.append(f"{where}: only local '$ref's ('#/...') are supported, not {ref!r}")
    # Draft 7 ignores the siblings of $ref; 2020-12 applies them.
    asserted = sorted(set(node) - ANNOTATIONS - {"$ref"})
    if asserted:
        problems.append(f"{where}: '$ref' beside {asserted} means something else in draft 7")
    return problems


def _pattern_problems(where: str, pattern: Any) -> list[str]:
    try:
        re.compile(_python_dollar(pattern))
    except (TypeError, re.error) as exc:
        return [f"{where}: pattern {pattern!r} does not compile: {exc}"]
    return []


def _subschemas(schema: Any, where: str, problems: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object inside ``schema``, with its JSON pointer; booleans need no check."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        problems.append(f"{where}: a schema must be an object or a boolean")
        return
    yield where, schema
    for key, value in schema.items():
        if key in SUBSCHEMA:
            yield from _subschemas(value, f"{where}/{key}", problems)
        elif key in SUBSCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield from _subschemas(sub, f"{where}/{key}/{name}", problems)
        elif key in SUBSCHEMA_LISTS and isinstance(value, list):
            for index, sub in enumerate(value):
                yield from _subschemas(sub, f"{where}/{key}/{index}", problems)


# -- the draft-7 rewrite -----------------------------------------------------------------------


def _python_dollar(pattern: str) -> str:
    """``pattern`` with every ``$`` anchor spelt ``(?=\\n?\\Z)``, which fastjsonschema leaves alone.

    Outside a character class an unescaped ``$`` is the anchor (``re.search`` semantics: the
    end, or just before a final newline); inside one it is a literal and gets escaped, since
    fastjsonschema rewrites every unescaped ``$``, even there.
    """
    out: list[str] = []
    index = 0
    class_start = -1  # index of the '[' of the open character class, or -1
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if class_start >= 0:
            opening = pattern[class_start + 1 : index] in ("", "^")  # ']' right after '[' is literal
            if char == "]" and not opening:
                class_start = -1
            elif char == "$":
                char = "\\$"
        elif char == "[":
            class_start = index
        elif char == "$":
            char = _LINE_END
        out.append(char)
        index += 1
    return "".join(out)


def as_draft7(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` that fastjsonschema's draft-7 generator reads as jsonschema reads 2020-12."""
    problems = draft7_problems(schema)
    if problems:
        raise ValueError("schema is not draft-7 compatible:\n  " + "\n  ".join(problems))
    result: dict[str, Any] = copy.deepcopy(dict(schema))
    result.pop("$id", None)  # refs stay local; an $id would only rename the functions
    result["$schema"] = DRAFT7
    for _, node in _subschemas(result, "#", []):
        if "const" in node:
            node["enum"] = [node.pop("const")]
        if "dependentRequired" in node:
            node["dependencies"] = node.pop("dependentRequired")
        if "pattern" in node:
            node["pattern"] = _python_dollar(node["pattern"])
        if "patternProperties" in node:
            node["patternProperties"] = {
                _python_dollar(key): value for key, value in node["patternProperties"].items()
            }
    return result


# -- code generation ---------------------------------------------------------------------------

_FASTJSONSCHEMA_IMPORT = "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException"
_OWN_IMPORT = (
    "from schnitzel_stream.graph._fast_validators import JsonSchemaValueException, JsonSchemaValuesException"
)
_MODULE_HEADER = '''\
"""Validator for the {name!r} schema, for the fast path of ``validate``. GENERATED: do not edit.

fastjsonschema's compile_to_code output for that schema (see ``ops/ci/gen_fast_validators.py``);
regenerate with ``{regenerate}``.
"""
# mypy: ignore-errors
'''
_INDEX = '''\
"""Standalone validators for the fast path of ``validate``. GENERATED: do not edit.

Regenerate this package with ``{regenerate}``
(fastjsonschema {version}); a test fails when it is stale. One module per schema, so that
``validate`` compiles only the validators of the plugins a graph uses. Each module's
``validate(data)`` returns ``data`` when it is valid and raises otherwise. Only the verdict is
used; the messages come from jsonschema (see ``schnitzel_stream.graph.schema``).
"""
# mypy: ignore-errors


class JsonSchemaValueException(ValueError):
    """The value does not match (raised by the generated code)."""


class JsonSchemaValuesException(ValueError):
    """Named by the generated ``except`` clauses; raised only without fast_fail."""


#: Schema name to the module (in this package) that holds its ``validate``.
MODULES: dict[str, str] = {{
{modules}
}}
'''


def module_name(name: str) -> str:
    """The module of the validator for schema ``name`` (``config.http_sink`` -> ``config_http_sink``)."""
    return re.sub(r"[^A-Za-z0-9]", "_", name)


def module_source(name: str, schema: Mapping[str, Any]) -> str:
    """The module text for ``schema``: fastjsonschema's code with our own exception classes."""
    import fastjsonschema

    code = fastjsonschema.compile_to_code(
        as_draft7(schema), use_default=False, use_formats=False, detailed_exceptions=False
    )
    if code.count(_FASTJSONSCHEMA_IMPORT) != 1:
        raise RuntimeError("fastjsonschema's output changed: its exception import is not there once")
    code = code.replace(_FASTJSONSCHEMA_IMPORT, _OWN_IMPORT)
    code = re.sub(r"\blist, tuple\b", "list", code)
    if re.search(r"[(,] *tuple\b|\btuple *[,)]", code):  # ``tuple(...)`` builds uniqueItems keys
        raise RuntimeError("fastjsonschema's output changed: tuples still pass as arrays")
    if "$" in re.sub(r"\\\\.", "", code.partition("\nNoneType = type(None)")[0]):
        raise RuntimeError("a pattern still holds a '$' that fastjsonschema would rewrite")
    return _MODULE_HEADER.format(name=name, regenerate=REGENERATE) + code.rstrip("\n") + "\n"


def render() -> dict[str, str]:
    """File name (inside the package) to text, for every file of ``graph/_fast_validators/``."""
    import fastjsonschema

    files: dict[str, str] = {}
    modules: list[str] = []
    for name, schema in schemas().items():
        files[f"{module_name(name)}.py"] = module_source(name, schema)
        modules.append(f"    {name!r}: {module_name(name)!r},")
    files["__init__.py"] = _INDEX.format(
        regenerate=REGENERATE, version=fastjsonschema.VERSION, modules="\n".join(modules)
    )
    return files


def stale_files(directory: Path = TARGET) -> list[str]:
    """The files of ``directory`` that differ from :func:`render`, are missing, or are stray."""
    expected = render()
    present = {path.name for path in directory.glob("*.py")} if directory.is_dir() else set()
    stale = [
        name
        for name, text in expected.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted(stale + sorted(present - set(expected)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed package is stale")
    args = parser.parse_args(argv)
    where = TARGET.relative_to(REPO_ROOT).as_posix()
    if args.check:
        stale = stale_files()
        if stale:
            print(f"{where} is stale ({', '.join(stale)}); regenerate it with: {REGENERATE}")
            return 1
        return 0
    files = render()
    TARGET.mkdir(exist_ok=True)
    for path in TARGET.glob("*.py"):
        if path.name not in files:
            path.unlink()
    for name, text in files.items():
        (TARGET / name).write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {len(files)} files to {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
