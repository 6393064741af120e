"""The node packages publish their specs eagerly and their classes lazily (``nodes/_lazy.py``).

``validate`` reads a package's ``SPECS``; a run asks the package for the class its spec's
target names. Both must keep working the ways callers use them: the published
``module:Class`` targets, ``from package import Class``, ``dir()`` and the spec on the class.
"""

from __future__ import annotations

import importlib
import json

import pytest

from schnitzel_stream.nodes import registry
from tests.support.probe import fresh_python

#: Each node package that names its classes lazily, and the classes it names.
LAZY_PACKAGES = {
    "schnitzel_stream.nodes.http": ("HttpJsonSink",),
    "schnitzel_stream.nodes.mqtt": ("MqttSink",),
    "schnitzel_stream.nodes.video": ("OpenCvRtspSource", "OpenCvVideoFileSource"),
    "schnitzel_stream.nodes.durable_sqlite": (
        "QueueNodeSettings",
        "SqliteQueueAckSink",
        "SqliteQueueSink",
        "SqliteQueueSource",
    ),
}


@pytest.mark.parametrize("name", list(registry.BUILTIN_INDEX))
def test_every_builtin_target_names_the_class_that_carries_its_spec(name: str) -> None:
    spec = registry.builtin_spec(name)
    assert spec is not None
    cls = registry.load_target(spec.target)
    assert cls.SPEC is spec, spec.target
    assert cls.__name__ == spec.class_name


@pytest.mark.parametrize("package", list(LAZY_PACKAGES))
def test_a_lazy_package_names_its_classes_everywhere_callers_look(package: str) -> None:
    module = importlib.import_module(package)
    classes = LAZY_PACKAGES[package]
    assert set(classes) <= set(module.__all__)
    assert set(module.__all__) <= set(dir(module))
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchNode'"):
        _ = module.NoSuchNode
    # A misspelt class still gets its did-you-mean: the registry lists dir() of the module.
    with pytest.raises(registry.PluginError) as caught:
        registry.load_target(f"{package}:{classes[0]}x")
    assert caught.value.hint == f"did you mean {classes[0]!r}?"


@pytest.mark.parametrize("package", list(LAZY_PACKAGES))
def test_importing_a_package_loads_its_implementation_only_when_a_class_is_asked_for(package: str) -> None:
    # In a fresh interpreter: which of the package's submodules each step loaded.
    probe = f"""
import importlib, json, sys
def loaded():
    return sorted(m for m in sys.modules if m.startswith({package!r} + "."))
module = importlib.import_module({package!r})
assert module.SPECS
before = loaded()
from {package} import {LAZY_PACKAGES[package][-1]} as cls
print(json.dumps([before, loaded(), cls.__module__]))
"""
    result = fresh_python(probe)
    assert result.returncode == 0, result.stderr
    before, after, home = json.loads(result.stdout)
    assert all(name.rsplit(".", 1)[1] in ("_spec", "_schema") for name in before), before
    assert home not in before and home in after, (home, after)
