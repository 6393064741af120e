"""Hostile plugin names: every allowlist bypass is refused without importing anything.

The sandbox's plugin package ``hostilepkg`` records every import of its modules as a canary
(``tests/support/hostile.py``): a refused name must leave no canary, and the positive
controls show that an allowed name does import, so the canaries can fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.hostile import Sandbox, make_sandbox, problem_line, refused, write_graph


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return make_sandbox(tmp_path)


# -- the plugin allowlist -----------------------------------------------------------------------

#: Line 9 holds the plugin under test; ``{plugins}`` is an optional line 2 (then line 10).
_PLUGIN = """\
version: 2
{plugins}nodes:
  - id: cam
    kind: source
    plugin: synthetic_camera
    config: {{width: 64, height: 48, fps: 5, frames: 3}}
  - id: out
    kind: sink
    plugin: {plugin}
    config: {{}}
edges:
  - {{from: cam, to: out}}
"""

_MALFORMED = "plugin.malformed"
_NOT_ALLOWED = "plugin.not-allowed"
_UNKNOWN = "plugin.unknown"
_PKG = "hostilepkg"


@pytest.mark.parametrize(
    ("plugin", "graph_allow", "env_allow", "code"),
    [
        # tests/e2e/invalid_graphs/plugin_os_system.yaml and plugin_builtins_eval.yaml
        pytest.param("os:system", None, None, _NOT_ALLOWED, id="os-system"),
        pytest.param("builtins:eval", None, None, _NOT_ALLOWED, id="builtins-eval"),
        pytest.param("subprocess:Popen", None, None, _NOT_ALLOWED, id="subprocess-popen"),
        # A graph cannot allowlist the standard library for itself, nor can the environment.
        pytest.param("subprocess:Popen", "subprocess", None, _NOT_ALLOWED, id="graph-allows-subprocess"),
        pytest.param("os:system", None, "os", _NOT_ALLOWED, id="env-allows-os"),
        pytest.param("this:Zen", "this", None, _NOT_ALLOWED, id="graph-allows-import-side-effects"),
        pytest.param("builtins:eval", "builtins", "builtins", _NOT_ALLOWED, id="both-allow-builtins"),
        # Relative names (tests/e2e/invalid_graphs/plugin_relative_module.yaml) and edge dots.
        pytest.param(f".{_PKG}:Tag", _PKG, None, _MALFORMED, id="relative-dot"),
        pytest.param(f"..{_PKG}.nodes:Tag", _PKG, None, _MALFORMED, id="relative-dotdot"),
        pytest.param(f".{_PKG}.nodes:Tag", _PKG, None, _MALFORMED, id="leading-dot"),
        # tests/e2e/invalid_graphs/plugin_empty_module_part.yaml
        pytest.param(f"{_PKG}.:Tag", _PKG, None, _MALFORMED, id="trailing-dot"),
        pytest.param(f"{_PKG}..nodes:Tag", _PKG, None, _MALFORMED, id="double-dot"),
        # Whitespace (tests/e2e/invalid_graphs/plugin_leading_space.yaml has the leading space).
        pytest.param(f"' {_PKG}.nodes:Tag'", _PKG, None, _MALFORMED, id="leading-space"),
        pytest.param(f"'{_PKG}.nodes :Tag'", _PKG, None, _MALFORMED, id="space-before-colon"),
        pytest.param(f"'{_PKG}.nodes: Tag'", _PKG, None, _MALFORMED, id="space-after-colon"),
        pytest.param(f"'{_PKG}.nodes:Tag '", _PKG, None, _MALFORMED, id="trailing-space"),
        pytest.param(f'"{_PKG}.nodes:Tag\\n"', _PKG, None, _MALFORMED, id="trailing-newline"),
        pytest.param(f'"{_PKG}.nodes:Tag\\t"', _PKG, None, _MALFORMED, id="trailing-tab"),
        # Unicode look-alikes: Cyrillic letters, a fullwidth letter, a fullwidth colon.
        pytest.param("hostil\u0435pkg.nodes:Tag", _PKG, None, _MALFORMED, id="cyrillic-e-in-module"),
        pytest.param(f"{_PKG}.nodes:T\u0430g", _PKG, None, _MALFORMED, id="cyrillic-a-in-class"),
        pytest.param("\uff48ostilepkg.nodes:Tag", _PKG, None, _MALFORMED, id="fullwidth-letter"),
        pytest.param(f"{_PKG}.nodes\uff1aTag", _PKG, None, _UNKNOWN, id="fullwidth-colon"),
        # Prefix confusion: 'hostilepkg.nodes' allows hostilepkg.nodes.*, not hostilepkg.nodes_evil.
        pytest.param(f"{_PKG}.nodes_evil:X", f"{_PKG}.nodes", None, _NOT_ALLOWED, id="sibling-prefix"),
        pytest.param(f"{_PKG}.nodes_evil:X", None, f"{_PKG}.nodes", _NOT_ALLOWED, id="sibling-prefix-env"),
        # Malformed allowlist entries allow nothing (in the graph they are also schema errors).
        pytest.param(f"{_PKG}.nodes_evil:X", None, "*", _NOT_ALLOWED, id="env-entry-star"),
        pytest.param(f"{_PKG}.nodes_evil:X", None, ".", _NOT_ALLOWED, id="env-entry-dot"),
        pytest.param(f"{_PKG}.nodes_evil:X", None, ",", _NOT_ALLOWED, id="env-entry-empty"),
        pytest.param(f"{_PKG}.nodes_evil:X", None, f"{_PKG}.", _NOT_ALLOWED, id="env-entry-trailing-dot"),
        pytest.param(f"{_PKG}.nodes_evil:X", None, f"{_PKG}*", _NOT_ALLOWED, id="env-entry-glob"),
        pytest.param(f"{_PKG}.nodes_evil:X", "'*'", None, "schema.pattern", id="graph-entry-star"),
        pytest.param(f"{_PKG}.nodes_evil:X", "''", None, "schema.pattern", id="graph-entry-empty"),
        pytest.param(f"{_PKG}.nodes_evil:X", "'.'", None, "schema.pattern", id="graph-entry-dot"),
        # Inside the built-in package only real node classes resolve, and nothing is imported.
        pytest.param("schnitzel_stream.nodes.evil:X", None, None, _UNKNOWN, id="builtin-package-missing"),
        pytest.param(
            "schnitzel_stream.nodes.registry:import_module", None, None, _UNKNOWN, id="builtin-not-a-class"
        ),
        pytest.param(
            "schnitzel_stream.nodes.registry:PluginError", None, None, _UNKNOWN, id="builtin-exception"
        ),
        pytest.param("schnitzel_stream.nodes.base:Node", None, None, _UNKNOWN, id="builtin-base-class"),
        pytest.param(
            "schnitzel_stream.cli.__main__:main",
            None,
            "schnitzel_stream",
            _NOT_ALLOWED,
            id="own-package-allowed",
        ),
        # Entry-point syntax is not a target.
        pytest.param(f"{_PKG}.nodes:Tag:extra", _PKG, None, _MALFORMED, id="two-colons"),
        pytest.param(f"{_PKG}.nodes:Tag.process", _PKG, None, _MALFORMED, id="attribute-path"),
        pytest.param(f"'{_PKG}.nodes:Tag [extra]'", _PKG, None, _MALFORMED, id="entry-point-extras"),
        pytest.param(f"'tag = {_PKG}.nodes:Tag'", _PKG, None, _MALFORMED, id="entry-point-line"),
        pytest.param(f"'{_PKG}.nodes:'", _PKG, None, _MALFORMED, id="empty-class"),
        pytest.param(f"':{_PKG}'", _PKG, None, _MALFORMED, id="empty-module"),
    ],
)
def test_plugin_allowlist_bypasses_are_refused_without_import(
    sandbox: Sandbox, plugin: str, graph_allow: str | None, env_allow: str | None, code: str
) -> None:
    plugins = f"plugins: {{allow: [{graph_allow}]}}\n" if graph_allow else ""
    path = write_graph(sandbox, _PLUGIN.format(plugins=plugins, plugin=plugin))
    env = {"SCHNITZEL_STREAM_PLUGIN_ALLOWLIST": env_allow} if env_allow is not None else {}
    line = 2 if code == "schema.pattern" else 10 if plugins else 9
    refused(sandbox, path, code, line, env=env)


def test_allowlisted_class_that_is_no_node_is_refused(sandbox: Sandbox) -> None:
    """An allowlisted module is imported (that is what the allowlist grants), but only a node
    class may be constructed: a helper class is refused before anything runs."""
    path = write_graph(
        sandbox, _PLUGIN.format(plugins=f"plugins: {{allow: [{_PKG}]}}\n", plugin=f"{_PKG}.nodes:Helper")
    )
    checked = sandbox.run("validate", str(path))
    assert checked.returncode == 1
    assert "is not a node class" in problem_line(checked.stdout, path, _UNKNOWN).group(0)
    assert sorted(p.name for p in sandbox.canaries.iterdir()) == [_PKG, f"{_PKG}.nodes"]


def test_allowlisted_plugin_loads_positive_control(sandbox: Sandbox) -> None:
    """The canaries work: an allowlisted node class is imported (and only its own modules)."""
    path = write_graph(
        sandbox, _PLUGIN.format(plugins=f"plugins: {{allow: [{_PKG}.nodes]}}\n", plugin=f"{_PKG}.nodes:Tag")
    )
    checked = sandbox.run("validate", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert sorted(p.name for p in sandbox.canaries.iterdir()) == [_PKG, f"{_PKG}.nodes"]
