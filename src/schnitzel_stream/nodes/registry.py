"""Plugin names to node classes.

Built-in nodes have short names (``synthetic_camera``) and are also reachable as
``module:Class`` under ``schnitzel_stream.nodes.*``. Their specs are read from the node
modules, which import heavy libraries only lazily, so resolving a plugin never imports
cv2, numpy or requests; and :data:`BUILTIN_INDEX` says which module holds which name, so
resolving one plugin imports only its own module.

The design this project comes from named some of the same nodes by other paths (its JSONL
sink in ``nodes.file_sink``, its video sources in ``packs.vision.nodes``):
:data:`DESIGN_PATHS` resolves those to our nodes, and :func:`resolve` says so in
``Resolved.design_path`` so that ``validate`` can name the modern short name.

Any other ``module:Class`` needs an allowlist entry: a graph file alone cannot make the
process import arbitrary code. Third-party packages may also register short names in the
entry-point group ``schnitzel_stream.nodes``; installing a package is the operator's act of
trust, so those names need no allowlist entry.
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

from schnitzel_stream.nodes.base import ANY_KIND, Node, NodeSpec, Role

ENTRY_POINT_GROUP = "schnitzel_stream.nodes"
BUILTIN_PACKAGE = "schnitzel_stream.nodes"
#: Each built-in's short name and the module under ``schnitzel_stream.nodes`` whose ``SPECS``
#: holds it, in the order the schema lists them. A test holds it to the modules' own SPECS.
BUILTIN_INDEX: Mapping[str, str] = {
    "static_source": "dev",
    "identity": "dev",
    "print_sink": "dev",
    "synthetic_camera": "synthetic",
    "motion_detector": "motion",
    "jsonl_sink": "files",
    "sqlite_queue_sink": "durable_sqlite",
    "sqlite_queue_source": "durable_sqlite",
    "sqlite_queue_ack": "durable_sqlite",
    "http_sink": "http",
    "rtsp_camera": "video",
    "video_file": "video",
    "mqtt_sink": "mqtt",
}
#: The node modules that hold built-in specs, in the order the schema lists them.
BUILTIN_MODULES: tuple[str, ...] = tuple(dict.fromkeys(BUILTIN_INDEX.values()))
_VISION = "schnitzel_stream.packs.vision.nodes"
#: Module prefixes where nodes live, ours (``nodes``) and the design's (``packs``).
_NODE_PACKAGES = (f"{BUILTIN_PACKAGE}.", "schnitzel_stream.packs.")
_NOT_OFFERED = (
    "built-in nodes have short names (schnitzel-stream schema lists them); docs/migration.md lists "
    "which nodes of the design this project comes from are offered, and under which name"
)
#: The design's import paths of nodes this project offers, to our short names
#: (docs/migration.md lists them, and what is not offered).
DESIGN_PATHS: Mapping[str, str] = {
    "schnitzel_stream.nodes.file_sink:JsonlSink": "jsonl_sink",
    f"{_VISION}:OpenCvRtspSource": "rtsp_camera",
    f"{_VISION}.video:OpenCvRtspSource": "rtsp_camera",
    f"{_VISION}:OpenCvVideoFileSource": "video_file",
    f"{_VISION}.video:OpenCvVideoFileSource": "video_file",
}

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class PluginError(Exception):
    """A plugin name that does not resolve; ``code`` and ``hint`` feed a Problem."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


class Resolved(NamedTuple):
    """A plugin name resolved to a spec; ``builtin`` says whether we ship it.

    ``design_path`` is set when the name was one of :data:`DESIGN_PATHS`.
    """

    spec: NodeSpec
    builtin: bool
    design_path: bool = False


@functools.cache
def _module_specs(module_name: str) -> Mapping[str, NodeSpec]:
    module = importlib.import_module(f"{BUILTIN_PACKAGE}.{module_name}")
    return {spec.name: spec for spec in getattr(module, "SPECS", ())}


def builtin_spec(name: str) -> NodeSpec | None:
    """The spec of built-in ``name``, importing only the module that holds it; None if unknown."""
    module_name = BUILTIN_INDEX.get(name)
    return None if module_name is None else _module_specs(module_name).get(name)


def builtin_specs() -> Mapping[str, NodeSpec]:
    """Short name to spec for every built-in node (imports every node module)."""
    return {name: spec for name in BUILTIN_INDEX if (spec := builtin_spec(name)) is not None}


def design_paths_of(name: str) -> tuple[str, ...]:
    """The design's import paths that resolve to built-in ``name``."""
    return tuple(path for path, target in DESIGN_PATHS.items() if target == name)


def _builtin_target(target: str) -> NodeSpec | None:
    """The built-in spec published as ``module:Class`` (or named so by its own ``aliases``)."""
    module, _, _ = target.partition(":")
    first = module.removeprefix(BUILTIN_PACKAGE + ".").partition(".")[0]
    if not module.startswith(BUILTIN_PACKAGE + ".") or first not in BUILTIN_MODULES:
        return None
    for spec in _module_specs(first).values():
        if target == spec.target or target in spec.aliases:
            return spec
    return None


def _builtin_targets() -> list[str]:
    """Every built-in ``module:Class`` name, for did-you-mean hints (imports every node module)."""
    return [name for spec in builtin_specs().values() for name in (spec.target, *spec.aliases)]


@functools.cache
def _entry_points() -> Mapping[str, str]:
    # importlib.metadata scans every installed distribution, so only pay for it on a miss.
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def parse_allowlist(text: str | None) -> tuple[str, ...]:
    """Split a comma-separated allowlist (``SCHNITZEL_STREAM_PLUGIN_ALLOWLIST``)."""
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


def is_allowed(module: str, allowlist: Iterable[str]) -> bool:
    """True when ``module`` equals an allowlist prefix or sits below it as a package.

    ``acme.nodes`` allows ``acme.nodes`` and ``acme.nodes.cam``, never ``acme.nodes_evil``.
    Entries that are not well-formed dotted names allow nothing, and neither do entries in the
    standard library or in this package (see :func:`_reserved`).
    """
    for prefix in allowlist:
        if not _DOTTED.fullmatch(prefix) or _reserved(prefix):
            continue
        if module == prefix or module.startswith(prefix + "."):
            return True
    return False


def _reserved(module: str) -> str | None:
    """Why ``module`` can never hold a plugin, or None.

    Importing a module runs its code (``antigravity`` opens a web browser), and a graph's own
    ``plugins.allow`` would otherwise let a graph file pick any module: so the standard library
    and this package (whose nodes are reachable by their short names) are never plugin sources.
    """
    top = module.partition(".")[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return "the Python standard library"
    if top == BUILTIN_PACKAGE.partition(".")[0]:
        return "schnitzel-stream itself (built-in nodes are reachable by their short names)"
    return None


#: Suggestions left in the current :func:`hint_budget`; None outside one (no limit).
_HINTS_LEFT: ContextVar[list[int] | None] = ContextVar("hints_left", default=None)
#: Longer names get no suggestion: comparing them costs more than any hint is worth.
MAX_HINT_NAME = 100


@contextmanager
def hint_budget(limit: int) -> Iterator[None]:
    """At most ``limit`` did-you-mean suggestions inside the block.

    Each costs a string comparison per candidate (tens of milliseconds against 256 node ids),
    so a hostile file with thousands of misspelt names would otherwise take minutes.
    """
    token = _HINTS_LEFT.set([limit])
    try:
        yield
    finally:
        _HINTS_LEFT.reset(token)


def _closest(name: str, candidates: Iterable[str]) -> str | None:
    import difflib

    left = _HINTS_LEFT.get()
    if len(name) > MAX_HINT_NAME or (left is not None and left[0] <= 0):
        return None
    if left is not None:
        left[0] -= 1
    found = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    match = _closest(name, candidates)
    return f"did you mean {match!r}?" if match else None


def split_target(target: str) -> tuple[str, str]:
    """Split ``module:Class`` strictly: no whitespace, no relative or empty parts."""
    module, sep, cls = target.partition(":")
    if not sep or not _DOTTED.fullmatch(module) or not _IDENT.fullmatch(cls):
        raise PluginError(
            "plugin.malformed",
            f"plugin {target!r} is not a short name or a well-formed 'package.module:Class'",
        )
    return module, cls


def resolve(name: str, *, allowlist: Sequence[str] = (), import_external: bool = True) -> Resolved:
    """Resolve a plugin name. Raises :class:`PluginError` with a did-you-mean hint."""
    spec = builtin_spec(name)
    if spec is not None:
        return Resolved(spec, builtin=True)
    if "${" in name:
        raise PluginError(
            "plugin.malformed",
            f"plugin {name!r} holds a ${{...}} reference; plugin names are never interpolated",
            "write the plugin's name: the graph file states which code runs, the environment cannot swap it",
        )
    if ":" not in name:
        if _IDENT.fullmatch(name):
            external = _entry_points().get(name)
            if external is not None:
                return _resolve_external(external, import_external=import_external)
        raise PluginError(
            "plugin.unknown",
            f"unknown plugin {name!r}",
            did_you_mean(name, [*BUILTIN_INDEX, *_entry_points()]),
        )
    module, cls = split_target(name)
    spec = _builtin_target(name)
    if spec is not None:
        return Resolved(spec, builtin=True)
    design = DESIGN_PATHS.get(name)
    if design is not None and (spec := builtin_spec(design)) is not None:
        return Resolved(spec, builtin=True, design_path=True)
    if module.startswith(_NODE_PACKAGES):
        # Where nodes live, here or in the design: a built-in misspelt, or a design node not offered.
        raise PluginError(
            "plugin.unknown",
            f"{name!r} is not a node this project offers",
            did_you_mean(name, [*_builtin_targets(), *DESIGN_PATHS]) or _NOT_OFFERED,
        )
    reserved = _reserved(module)
    if reserved is not None:
        raise PluginError(
            "plugin.not-allowed",
            f"plugin module {module!r} belongs to {reserved}, which is never a plugin source",
            "a plugin is a class in an installed third-party package",
        )
    if not is_allowed(module, allowlist):
        raise PluginError(
            "plugin.not-allowed",
            f"plugin module {module!r} is not in the plugin allowlist",
            "add its package to 'plugins.allow' in the graph or to SCHNITZEL_STREAM_PLUGIN_ALLOWLIST",
        )
    return _resolve_external(f"{module}:{cls}", import_external=import_external)


def _resolve_external(target: str, *, import_external: bool) -> Resolved:
    if not import_external:
        spec = _spec_from_attributes(target, None)
        return Resolved(spec, builtin=False)
    cls = load_target(target)
    if not any(callable(getattr(cls, method, None)) for method in ("process", "run")):
        # An allowlisted module may hold other classes (helpers, exceptions): only a class
        # with the node contract's process() or run() may be constructed by the engine.
        raise PluginError(
            "plugin.unknown",
            f"{target!r} is not a node class: it has neither process() nor run()",
        )
    existing = getattr(cls, "SPEC", None)
    spec = existing if isinstance(existing, NodeSpec) else _spec_from_attributes(target, cls)
    return Resolved(spec, builtin=False)


def load_target(target: str) -> type[Any]:
    """Import ``module:Class`` and return the class; errors become :class:`PluginError`."""
    module_name, cls_name = split_target(target)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PluginError("plugin.import", f"cannot import plugin module {module_name!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a plugin that crashes on import is a user error
        raise PluginError(
            "plugin.import", f"plugin module {module_name!r} failed to import: {type(exc).__name__}: {exc}"
        ) from None
    cls = getattr(module, cls_name, None)
    if not isinstance(cls, type):
        public = [n for n in dir(module) if not n.startswith("_")]
        raise PluginError(
            "plugin.unknown",
            f"module {module_name!r} has no class {cls_name!r}",
            did_you_mean(cls_name, public),
        )
    return cls


def _spec_from_attributes(target: str, cls: type[Any] | None) -> NodeSpec:
    """A spec for a third-party class written against the design this project comes from."""
    consumes = frozenset(getattr(cls, "INPUT_KINDS", {ANY_KIND}))
    produces = frozenset(getattr(cls, "OUTPUT_KINDS", {ANY_KIND}))
    schema = getattr(cls, "CONFIG_SCHEMA", None) or {"type": "object"}
    roles: frozenset[Role] = frozenset({"source", "node", "sink"})
    return NodeSpec(
        name=target,
        target=target,
        roles=roles,
        title=target,
        description=(cls.__doc__ or "").strip().splitlines()[0] if cls and cls.__doc__ else target,
        schema=schema,
        consumes=consumes,
        produces=produces,
        portable=bool(getattr(cls, "REQUIRES_PORTABLE_PAYLOAD", False)),
    )


def node_class(spec: NodeSpec) -> type[Node]:
    """Import the class behind a spec (this may import cv2/numpy/requests)."""
    return load_target(spec.target)
