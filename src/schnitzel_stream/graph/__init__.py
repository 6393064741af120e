"""The graph layer: load a graph file, check it, and hand the engine a typed, valid :class:`Graph`.

``validate`` is the pipeline (file -> document -> schema, plugins, config, topology -> report);
the other public modules are its stages. Modules with a leading underscore are internal.
"""

__all__: list[str] = []
