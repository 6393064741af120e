"""The plugin registry: its index of built-ins, lazy imports, and the design's import paths."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from schnitzel_stream.nodes import registry


def test_the_index_names_exactly_what_each_node_module_publishes() -> None:
    published: dict[str, str] = {}
    for module_name in registry.BUILTIN_MODULES:
        module = importlib.import_module(f"{registry.BUILTIN_PACKAGE}.{module_name}")
        for spec in module.SPECS:
            assert spec.name not in published, f"{spec.name} is published twice"
            published[spec.name] = module_name
            # The target's module is the one the index names, so a target resolves lazily too.
            assert spec.module.split(".")[2] == module_name, spec.target
    assert dict(registry.BUILTIN_INDEX) == published


def test_resolving_one_plugin_imports_only_its_own_node_module() -> None:
    probe = (
        "import json, sys\n"
        "from schnitzel_stream.nodes.registry import resolve\n"
        "resolve('jsonl_sink'); resolve('schnitzel_stream.nodes.dev:Identity')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('schnitzel_stream.nodes.'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(result.stdout))
    assert {"schnitzel_stream.nodes.files", "schnitzel_stream.nodes.dev"} <= loaded
    assert not loaded & {f"schnitzel_stream.nodes.{m}" for m in ("http", "mqtt", "video", "durable_sqlite")}


@pytest.mark.parametrize(("path", "name"), sorted(registry.DESIGN_PATHS.items()))
def test_the_designs_paths_resolve_to_our_nodes(path: str, name: str) -> None:
    resolved = registry.resolve(path)
    assert resolved.spec is registry.builtin_spec(name)
    assert resolved.builtin and resolved.design_path


def test_our_own_paths_are_not_design_paths() -> None:
    resolved = registry.resolve("schnitzel_stream.nodes.http:HttpJsonSink")
    assert resolved.spec.name == "http_sink" and not resolved.design_path


@pytest.mark.parametrize(
    "path",
    [
        "schnitzel_stream.packs.vision.nodes:YoloV8DetectorNode",
        "schnitzel_stream.packs.vision.nodes:ZonePolicyNode",
        "schnitzel_stream.nodes.dev:BurstNode",
        "schnitzel_stream.nodes.video:OpenCvWebcamSource",
    ],
)
def test_a_design_node_not_offered_here_says_so(path: str) -> None:
    with pytest.raises(registry.PluginError) as caught:
        registry.resolve(path)
    assert caught.value.code == "plugin.unknown"
    assert "not a node this project offers" in caught.value.message
    assert caught.value.hint is not None


def test_a_plugin_name_from_the_environment_is_refused() -> None:
    with pytest.raises(registry.PluginError) as caught:
        registry.resolve("${oc.env:SS_INPUT_PLUGIN,schnitzel_stream.nodes.dev:StaticSource}")
    assert caught.value.code == "plugin.malformed" and "never interpolated" in caught.value.message
