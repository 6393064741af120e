"""Each built-in node's defaults exist once, in its JSON Schema (issue 12, item 2).

Two kinds of check:

- the code never states a default a second time: no ``config.get("timeout_sec", 3.0)`` and
  no settings dataclass field with a default, in any module under ``nodes/`` (an AST scan);
- every node's settings, built from a config with only its required keys, hold exactly the
  schema's defaults (nested objects and array items included).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from schnitzel_stream.nodes import _settings
from schnitzel_stream.nodes.dev import PrintSinkSettings, StaticItem, StaticSourceSettings
from schnitzel_stream.nodes.durable_sqlite import QueueNodeSettings
from schnitzel_stream.nodes.files import JsonlSinkSettings
from schnitzel_stream.nodes.http._config import parse_settings as http_settings
from schnitzel_stream.nodes.motion import MotionSettings
from schnitzel_stream.nodes.mqtt._config import parse_settings as mqtt_settings
from schnitzel_stream.nodes.registry import builtin_specs
from schnitzel_stream.nodes.synthetic import SyntheticCameraSettings, SyntheticObject
from schnitzel_stream.nodes.video._config import RtspSettings, VideoFileSettings

NODES_DIR = Path(_settings.__file__).parent

#: How to build each built-in node's settings from its required keys only.
BUILDERS: dict[str, Callable[[], Any]] = {
    "static_source": lambda: StaticSourceSettings.from_mapping({}),
    "identity": lambda: None,
    "print_sink": lambda: PrintSinkSettings.from_mapping({}),
    "synthetic_camera": lambda: SyntheticCameraSettings.from_mapping({}),
    "motion_detector": lambda: MotionSettings.from_mapping({}),
    "jsonl_sink": lambda: JsonlSinkSettings.from_mapping({"path": "out.jsonl"}),
    "sqlite_queue_sink": lambda: QueueNodeSettings.from_mapping({"path": "q.sqlite3"}),
    "sqlite_queue_source": lambda: QueueNodeSettings.from_mapping({"path": "q.sqlite3"}),
    "sqlite_queue_ack": lambda: QueueNodeSettings.from_mapping({"path": "q.sqlite3"}),
    "http_sink": lambda: http_settings("n", {"url": "http://backend.local/ingest"}, {}),
    "mqtt_sink": lambda: mqtt_settings("n", {"url": "mqtt://broker.local:1883", "topic": "t"}, {}),
    "rtsp_camera": lambda: RtspSettings.from_config("n", {"url": "rtsp://cam.local/s"}, {}),
    "video_file": lambda: VideoFileSettings.from_config("n", {"path": "clip.mp4"}),
}

#: Settings that hold a value derived from the default rather than the default itself.
DERIVED: dict[str, set[str]] = {
    # null means "the same as timeout_sec"; the settings hold that number.
    "http_sink": {"connect_timeout_sec"},
    # null means "schnitzel-<host>-<node>".
    "mqtt_sink": {"client_id"},
    # null means "the node id".
    "rtsp_camera": {"source_id"},
    "video_file": {"source_id"},
}


def _plain(value: Any) -> Any:
    """A settings value as JSON would hold it: records to dicts, sets and tuples to lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a NamedTuple record
        return {name: _plain(item) for name, item in value._asdict().items()}
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _expected(default: Any) -> Any:
    return (
        sorted(default) if isinstance(default, list) and all(isinstance(v, int) for v in default) else default
    )


def test_every_builtin_node_has_a_settings_builder() -> None:
    assert set(BUILDERS) == set(builtin_specs())


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_settings_from_required_keys_hold_the_schema_defaults(name: str) -> None:
    spec = builtin_specs()[name]
    settings = BUILDERS[name]()
    defaults = _settings.schema_defaults(spec.schema)
    if settings is None:
        assert defaults == {}
        return
    compared = []
    for key, default in defaults.items():
        if key in DERIVED.get(name, set()) or not hasattr(settings, key):
            continue
        value = _plain(getattr(settings, key))
        assert (
            sorted(value) if isinstance(value, list) and all(isinstance(v, int) for v in value) else value
        ) == (_expected(default)), f"{name}.{key}"
        compared.append(key)
    # Renamed settings (batch_linger_ms -> batch_linger_sec) are fine, but most keys keep their names.
    assert len(compared) * 2 >= len(defaults), (name, compared)


@pytest.mark.parametrize(
    ("cls", "item_schema", "required"),
    [
        pytest.param(
            SyntheticObject,
            builtin_specs()["synthetic_camera"].schema["properties"]["objects"]["items"],
            {"id": "a", "x": 0, "y": 0, "w": 1, "h": 1},
            id="synthetic-object",
        ),
        pytest.param(
            StaticItem,
            builtin_specs()["static_source"].schema["properties"]["packets"]["items"],
            {},
            id="static-packet",
        ),
    ],
)
def test_array_items_take_their_defaults_from_the_item_schema(
    cls: Any, item_schema: Mapping[str, Any], required: dict[str, Any]
) -> None:
    item = cls.from_mapping(required)
    defaults = _settings.schema_defaults(item_schema)
    assert defaults
    for key, default in defaults.items():
        assert _plain(getattr(item, key)) == default, key


def test_with_defaults_fills_nested_objects_and_items_and_never_shares_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "default": 1},
            "tags": {"type": "array", "default": ["x"]},
            "tls": {
                "type": ["object", "null"],
                "default": None,
                "properties": {"insecure": {"default": False}},
            },
            "items": {"type": "array", "items": {"type": "object", "properties": {"n": {"default": 0}}}},
        },
    }
    merged = _settings.with_defaults(schema, {"tls": {}, "items": [{}, {"n": 3}, "odd"], "extra": 5})
    assert merged == {
        "a": 1,
        "tags": ["x"],
        "tls": {"insecure": False},
        "items": [{"n": 0}, {"n": 3}, "odd"],
        "extra": 5,
    }
    merged["tags"].append("y")
    assert schema["properties"]["tags"]["default"] == ["x"]  # type: ignore[index]
    # A key the config gives wins, null included.
    assert _settings.with_defaults(schema, {"a": None})["a"] is None


# -- the code states no default twice ---------------------------------------------------------


def _property_names(schema: Mapping[str, Any]) -> Iterator[str]:
    for key, prop in (schema.get("properties") or {}).items():
        yield key
        if isinstance(prop, Mapping):
            yield from _property_names(prop)
            items = prop.get("items")
            if isinstance(items, Mapping):
                yield from _property_names(items)


CONFIG_KEYS = frozenset(name for spec in builtin_specs().values() for name in _property_names(spec.schema))
NODE_MODULES = sorted(p for p in NODES_DIR.rglob("*.py") if p.name != "_settings.py")


def _repeated_defaults(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        # config.get("key", default): a second copy of the schema's default.
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in CONFIG_KEYS
        ):
            yield node.lineno, f'.get("{node.args[0].value}", <default>)'
        # A dataclass field named like a config key, with a default of its own.
        if isinstance(node, ast.ClassDef) and any(
            "dataclass" in ast.unparse(decorator) for decorator in node.decorator_list
        ):
            for statement in node.body:
                if (
                    isinstance(statement, ast.AnnAssign)
                    and isinstance(statement.target, ast.Name)
                    and statement.target.id in CONFIG_KEYS
                    and statement.value is not None
                    and "ClassVar" not in ast.unparse(statement.annotation)
                ):
                    yield statement.lineno, f"{node.name}.{statement.target.id} has a default"


def test_the_scan_sees_every_node_module() -> None:
    names = {p.relative_to(NODES_DIR).as_posix() for p in NODE_MODULES}
    assert {"dev.py", "files.py", "http/_config.py", "mqtt/_config.py", "video/_config.py"} <= names
    assert {"timeout_sec", "batch_max", "path", "fps", "threshold", "insecure", "kind"} <= CONFIG_KEYS


@pytest.mark.parametrize("path", NODE_MODULES, ids=lambda p: p.relative_to(NODES_DIR).as_posix())
def test_node_modules_state_no_default_a_second_time(path: Path) -> None:
    found = [f"{path.name}:{line}: {what}" for line, what in _repeated_defaults(ast.parse(path.read_text()))]
    assert not found, "defaults belong in the schema only:\n" + "\n".join(found)


def test_the_scan_finds_a_repeated_default() -> None:
    source = (
        "from dataclasses import dataclass\n"
        "@dataclass\nclass S:\n    timeout_sec: float = 3.0\n"
        "def f(config):\n    return config.get('batch_max', 1)\n"
    )
    assert [line for line, _ in _repeated_defaults(ast.parse(source))] == [4, 6]
