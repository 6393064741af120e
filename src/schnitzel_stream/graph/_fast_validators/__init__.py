"""Standalone validators for the fast path of ``validate``. GENERATED: do not edit.

Regenerate this package with ``uv run python ops/ci/gen_fast_validators.py``
(fastjsonschema 2.22.3); a test fails when it is stale. One module per schema, so that
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
MODULES: dict[str, str] = {
    'skeleton': 'skeleton',
    'runtime': 'runtime',
    'config.static_source': 'config_static_source',
    'config.identity': 'config_identity',
    'config.print_sink': 'config_print_sink',
    'config.synthetic_camera': 'config_synthetic_camera',
    'config.motion_detector': 'config_motion_detector',
    'config.jsonl_sink': 'config_jsonl_sink',
    'config.sqlite_queue_sink': 'config_sqlite_queue_sink',
    'config.sqlite_queue_source': 'config_sqlite_queue_source',
    'config.sqlite_queue_ack': 'config_sqlite_queue_ack',
    'config.http_sink': 'config_http_sink',
    'config.rtsp_camera': 'config_rtsp_camera',
    'config.video_file': 'config_video_file',
    'config.mqtt_sink': 'config_mqtt_sink',
}
