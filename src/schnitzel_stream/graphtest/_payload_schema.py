"""``expect.<node>.schema``: a JSON Schema file that every captured payload must satisfy.

Loading is strict because a test file may come from anyone: the file must be a regular
``.json`` file of at most 1 MiB holding a valid schema, and every ``$ref`` must point inside
it (``#...``), so checking a payload never reads another file or reaches the network. No
message ever quotes the file's content.

The compiled validator (jsonschema-rs) checks payloads; jsonschema words the errors only
when that library is missing.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schnitzel_stream.graph.findings import JsonPath, format_path
from schnitzel_stream.graph.load import MAX_BYTES
from schnitzel_stream.packet import is_json_portable

_REF_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")
_DIALECTS = frozenset(
    {
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2019-09/schema",
        "http://json-schema.org/draft-07/schema#",
        "http://json-schema.org/draft-07/schema",
        "http://json-schema.org/draft-06/schema#",
        "http://json-schema.org/draft-04/schema#",
    }
)


class SchemaFileError(Exception):
    """The schema file cannot be used; the message says why in one sentence."""


@dataclass(frozen=True, slots=True)
class PayloadSchema:
    """A loaded schema file and its compiled validator."""

    file: str
    schema: Any = field(repr=False)
    _validator: Any = field(repr=False, compare=False)

    def first_error(self, payload: Any) -> tuple[JsonPath, str] | None:
        """``(JSON path inside the payload, message)`` of the first violation, or None."""
        if not is_json_portable(payload):
            return ((), f"the payload is not JSON ({_type_name(payload)}), so no schema can accept it")
        for error in self._validator.iter_errors(payload):
            # jsonschema-rs names it instance_path, jsonschema absolute_path.
            where = getattr(error, "instance_path", None)
            return (tuple(error.absolute_path if where is None else where), str(error.message))
        return None


def load_payload_schema(path: Path) -> PayloadSchema:
    """Read and compile ``path``. Raises :class:`SchemaFileError`."""
    if path.suffix.lower() != ".json":
        raise SchemaFileError("a payload schema is a JSON Schema file ending in .json")
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise SchemaFileError(f"no such file: {path}") from None
    except (OSError, ValueError) as exc:
        raise SchemaFileError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SchemaFileError(f"{path} is not a regular file")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SchemaFileError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise SchemaFileError(f"{path} is larger than {MAX_BYTES >> 20} MiB")
    try:
        schema = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SchemaFileError(f"{path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        # exc.msg names the problem ("Expecting value"), never the text around it.
        raise SchemaFileError(
            f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(schema, (dict, bool)):
        raise SchemaFileError(f"{path} does not hold a JSON Schema (an object or a boolean)")
    for ref in _references(schema):
        if not ref.startswith("#"):
            raise SchemaFileError(
                f"{path} refers to {ref!r}; a payload schema may only refer inside itself ('#...'), "
                "so that checking never reads other files or the network"
            )
    dialect = schema.get("$schema") if isinstance(schema, dict) else None
    if dialect is not None and dialect not in _DIALECTS:
        raise SchemaFileError(f"{path} uses an unknown '$schema' {str(dialect)[:80]!r}")
    return PayloadSchema(file=str(path), schema=schema, _validator=_compile(schema, path))


def _references(node: Any, depth: int = 0) -> Iterator[str]:
    if depth > 200:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _REF_KEYS and isinstance(value, str):
                yield value
            else:
                yield from _references(value, depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item, depth + 1)


def _compile(schema: Any, path: Path) -> Any:
    try:
        import jsonschema_rs
    except ImportError:  # no wheel for this platform: the reference validator does the job
        return _compile_reference(schema, path)
    if not jsonschema_rs.meta.is_valid(schema):
        return _compile_reference(schema, path)  # words the metaschema problem
    try:
        return jsonschema_rs.validator_for(schema)
    except jsonschema_rs.ValidationError as exc:
        raise SchemaFileError(f"{path} is not a usable JSON Schema: {str(exc).splitlines()[0]}") from None


def _compile_reference(schema: Any, path: Path) -> Any:
    from jsonschema import exceptions, validators

    cls = validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError as exc:
        where = format_path(tuple(exc.absolute_path))
        at = f" at {where}" if where else ""
        raise SchemaFileError(f"{path} is not a valid JSON Schema{at}: {exc.message}") from None
    return cls(schema)


def _type_name(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} shape={tuple(shape)}"
    return type(value).__name__
