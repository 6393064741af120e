"""Validator for the 'config.print_sink' schema, for the fast path of ``validate``. GENERATED: do not edit.

fastjsonschema's compile_to_code output for that schema (see ``ops/ci/gen_fast_validators.py``);
regenerate with ``uv run python ops/ci/gen_fast_validators.py``.
"""
# mypy: ignore-errors
VERSION = "2.22.3"
from decimal import Decimal
from schnitzel_stream.graph._fast_validators import JsonSchemaValueException, JsonSchemaValuesException


NoneType = type(None)

def validate(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "prefix" in data_keys:
            data_keys.remove("prefix")
            data__prefix = data["prefix"]
            if not isinstance(data__prefix, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".prefix must be string")
        if "forward" in data_keys:
            data_keys.remove("forward")
            data__forward = data["forward"]
            if not isinstance(data__forward, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".forward must be boolean")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
