"""Per-node work of the validation pipeline: plugin, id, ``__runtime__``, references, config.

For each entry of ``nodes:`` :class:`NodeAnalysis` resolves the plugin (the design's import
paths with a ``compat.plugin-path`` warning), checks the id against the safe set
(:mod:`schnitzel_stream.ids`), interpolates ``${...}`` in the config and ``__runtime__``,
converts values built from references to the types the schema wants (:mod:`._coerce`),
checks the config against the plugin's schema, and checks that every environment variable a
``*_from_env`` key names is set and UTF-8, because the node reads it only when it starts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from schnitzel_stream import ids
from schnitzel_stream.graph._coerce import coerce
from schnitzel_stream.graph._schema_check import config_findings, runtime_findings
from schnitzel_stream.graph.checks import NodeRef
from schnitzel_stream.graph.findings import Finding, JsonPath, describe_value, quoted
from schnitzel_stream.graph.interpolate import Interpolated, interpolate
from schnitzel_stream.graph.model import NodeDecl, RuntimeOptions
from schnitzel_stream.graph.schema import RUNTIME_KEY, RUNTIME_SCHEMA
from schnitzel_stream.nodes.base import Role
from schnitzel_stream.nodes.registry import PluginError, Resolved, resolve
from schnitzel_stream.paths import PATH_CLASSES

if TYPE_CHECKING:
    from schnitzel_stream.graph.validate import ValidateOptions

ROLES: tuple[Role, ...] = ("source", "node", "sink")
FROM_ENV_SUFFIX = "_from_env"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFERENCE_NAME = re.compile(r"\$\{(?:oc\.env:)?\s*([A-Za-z_][A-Za-z0-9_]*)")
_SURROGATE = re.compile("[\ud800-\udfff]")


class NodeAnalysis:
    """Collects findings, node references (for topology) and declarations (for the engine)."""

    def __init__(self, options: ValidateOptions, allowlist: tuple[str, ...], findings: list[Finding]) -> None:
        self.options = options
        self.allowlist = allowlist
        self.findings = findings
        self.refs: list[NodeRef] = []
        self.decls: list[NodeDecl] = []
        self._resolved: dict[str, Resolved | PluginError] = {}

    def _resolve(self, plugin: str) -> Resolved | PluginError:
        found = self._resolved.get(plugin)
        if found is None:
            try:
                found = resolve(plugin, allowlist=self.allowlist, import_external=self.options.import_plugins)
            except PluginError as exc:
                found = exc
            self._resolved[plugin] = found
        return found

    def _errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "error")

    def node(self, index: int, raw: Any) -> None:
        if not isinstance(raw, dict):
            return
        node_id, kind, plugin = raw.get("id"), raw.get("kind"), raw.get("plugin")
        if not isinstance(node_id, str) or not node_id:
            return  # the skeleton check reported it; edges cannot name this node anyway
        base: JsonPath = ("nodes", index)
        before = self._errors()
        self._check_id(node_id, (*base, "id"))
        resolved = self._resolve(plugin) if isinstance(plugin, str) and plugin else None
        if isinstance(resolved, PluginError):
            self.findings.append(
                Finding(resolved.code, resolved.message, (*base, "plugin"), hint=resolved.hint)
            )
            resolved = None
        spec = resolved.spec if resolved else None
        if resolved is not None and resolved.design_path:
            message = f"{plugin!r} is the design's import path of {resolved.spec.name!r}"
            hint = f"the modern form: plugin: {resolved.spec.name}"
            self.findings.append(Finding("compat.plugin-path", message, (*base, "plugin"), "warning", hint))
        role: Role | None = kind if kind in ROLES else None
        if spec is not None and role is not None and role not in spec.roles:
            roles = ", ".join(r for r in ROLES if r in spec.roles)
            self.findings.append(
                Finding(
                    "graph.role",
                    f"plugin {spec.name!r} cannot be a {role}",
                    (*base, "kind"),
                    hint=f"{spec.name} can be: {roles}",
                )
            )
        self.refs.append(NodeRef(node_id, role, index, spec))
        config, runtime = self._config(base, raw.get("config", {}), resolved)
        if spec is not None and role is not None and config is not None and self._errors() == before:
            self.decls.append(
                NodeDecl(
                    id=node_id,
                    kind=role,
                    plugin=str(plugin),
                    spec=spec,
                    config=config,
                    runtime=runtime,
                    position=index,
                )
            )

    def _check_source_ids(self, value: Any, at: JsonPath) -> None:
        """A ``source_id`` (a packet's, or a source's own) lands in logs and keys as a node id does."""
        items = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        )
        for key, item in items:
            if key == "source_id" and isinstance(item, str):
                self._check_id(item, (*at, key), what="source_id")
            elif isinstance(item, dict | list):
                self._check_source_ids(item, (*at, key))

    def _check_id(self, node_id: str, at: JsonPath, what: str = "node id") -> None:
        if ids.is_safe_id(node_id):
            return
        unsafe = ids.first_unsafe(node_id)
        if unsafe is not None:
            why = f"it holds {unsafe}"
        elif len(node_id) > ids.MAX_ID_LENGTH:
            why = f"it is {len(node_id)} characters long"
        else:
            why = "it starts with a character other than a letter, digit or '_'"
        suggestion = ids.suggest_id(node_id)
        self.findings.append(
            Finding(
                "graph.node-id" if what == "node id" else "graph.source-id",
                f"{what} {quoted(node_id)} is not allowed: {why}",
                at,
                hint=(f"did you mean {suggestion!r}? " if suggestion else "")
                + f"ids are ASCII letters, digits, '_', '-' and '.', at most {ids.MAX_ID_LENGTH} long",
            )
        )

    def _config(
        self, base: JsonPath, raw: Any, resolved: Resolved | None
    ) -> tuple[dict[str, Any] | None, RuntimeOptions]:
        if not isinstance(raw, dict):
            return None, RuntimeOptions()  # the skeleton check reported it
        config = dict(raw)
        at = (*base, "config")
        before = len(self.findings)
        runtime = (
            self._runtime(config.pop(RUNTIME_KEY), (*at, RUNTIME_KEY)) if RUNTIME_KEY in config else None
        )
        result = self._interpolate(config, at)
        self._check_from_env(result.value, at)
        self._check_source_ids(result.value, at)
        if resolved is None:
            return result.value, runtime or RuntimeOptions()
        misfits = coerce(resolved.spec.schema, result.value, _relative(result, at))
        for finding in config_findings(resolved.spec, result.value, at, builtin=resolved.builtin):
            if finding.path in result.unresolved:
                continue  # the missing variable is the problem; its placeholder text is not
            if finding.path in result.references:
                # The value came from ${...}: the environment may hold a secret (a camera URL
                # with its password), so the message names the reference, never the value.
                finding = _naming_reference(finding, config, result.value, len(at))
                wanted = misfits.get(finding.path[len(at) :])
                if finding.code == "schema.type" and wanted:
                    finding = _with_hint(finding, f"the text of the reference must read as {wanted}")
            self.findings.append(finding)
        check = resolved.spec.check
        if check is not None and len(self.findings) == before:
            # The node's own static checks (a file path that is a directory...), on a valid config.
            self.findings.extend(Finding(f.code, f.message, (*at, f.key)) for f in check(result.value))
        return result.value, runtime or RuntimeOptions()

    def _interpolate(self, value: dict[str, Any], at: JsonPath) -> Interpolated:
        result = interpolate(value, paths=self.options.paths, environ=self.options.environ, base=at)
        self.findings.extend(result.findings)
        return result

    def _runtime(self, raw: Any, at: JsonPath) -> RuntimeOptions | None:
        if isinstance(raw, dict):
            result = self._interpolate(raw, at)
            raw = result.value
            misfits = coerce(RUNTIME_SCHEMA, raw, _relative(result, at))
            if result.unresolved or misfits:
                problems = [f for f in runtime_findings(raw, at) if f.path not in result.unresolved]
                self.findings.extend(problems)
                return None
        problems = runtime_findings(raw, at)
        self.findings.extend(problems)
        if problems:
            return None
        return RuntimeOptions(inbox_max=raw.get("inbox_max"), inbox_overflow=raw.get("inbox_overflow"))

    def _check_from_env(self, config: Any, at: JsonPath) -> None:
        """Every ``*_from_env`` name must be set (and UTF-8) where the node will read it."""
        if not isinstance(config, dict):
            return
        for key, value in config.items():
            if not isinstance(key, str):
                continue
            if key.endswith(FROM_ENV_SUFFIX):
                for where, name in _env_names(value, (*at, key)):
                    self._env_value(key if len(key) <= 60 else key[:57] + "...", name, where)
            elif isinstance(value, dict):
                self._check_from_env(value, (*at, key))

    def _env_value(self, key: str, name: str, at: JsonPath) -> None:
        value = self.options.environ.get(name)
        if value:
            bad = _SURROGATE.search(value)
            if bad is not None:
                self.findings.append(
                    Finding(
                        "env.encoding",
                        f"{key} names environment variable {quoted(name)}, whose value is not valid UTF-8 "
                        f"(offset {bad.start()})",
                        at,
                        hint="write the value as UTF-8 in the env file or the service's environment",
                    )
                )
            return
        missing = value is None
        self.findings.append(
            Finding(
                "env.unset" if missing else "env.empty",
                f"{key} names environment variable {quoted(name)}, which "
                + ("is not set" if missing else "is empty")
                + "; the node reads it when it starts",
                at,
                severity="error" if missing and self.options.require_env else "warning",
                hint=f"set {name}=... in the deployment's env file (validate --env-file FILE checks with it)",
            )
        )


def _env_names(value: Any, at: JsonPath) -> list[tuple[JsonPath, str]]:
    """The variable names a ``*_from_env`` value holds: a name, a mapping of names, or a list."""
    if isinstance(value, str):
        return [(at, value)] if _ENV_NAME.fullmatch(value) else []
    if isinstance(value, dict):
        return [(found, name) for key, item in value.items() for found, name in _env_names(item, (*at, key))]
    if isinstance(value, list):
        return [(found, name) for i, item in enumerate(value) for found, name in _env_names(item, (*at, i))]
    return []


def _relative(result: Interpolated, at: JsonPath) -> list[JsonPath]:
    """The paths of strings built from references, relative to ``at``, minus the unresolved."""
    return [path[len(at) :] for path in result.references - result.unresolved if path[: len(at)] == at]


def _with_hint(finding: Finding, hint: str) -> Finding:
    return Finding(finding.code, finding.message, finding.path, finding.severity, hint, finding.anchor)


def _naming_reference(finding: Finding, raw: Any, interpolated: Any, depth: int) -> Finding:
    """``finding`` with the interpolated value it quotes replaced by the ``${...}`` text it came from."""
    for key in finding.path[depth:]:
        try:
            raw, interpolated = raw[key], interpolated[key]
        except (KeyError, IndexError, TypeError):
            return finding
    if not isinstance(raw, str):
        return finding
    if all(name in PATH_CLASSES for name in _REFERENCE_NAME.findall(raw)):
        return finding  # only ${state}/${config}/${logs}: directories, and showing them helps
    message = finding.message.replace(describe_value(interpolated), f"the string built from {raw!r}")
    return Finding(finding.code, message, finding.path, finding.severity, finding.hint, finding.anchor)
