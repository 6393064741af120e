"""Validator for the 'runtime' schema, for the fast path of ``validate``. GENERATED: do not edit.

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
        if "inbox_max" in data_keys:
            data_keys.remove("inbox_max")
            data__inboxmax = data["inbox_max"]
            if not isinstance(data__inboxmax, (int)) and not (isinstance(data__inboxmax, float) and data__inboxmax.is_integer()) or isinstance(data__inboxmax, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".inbox_max must be integer")
            if isinstance(data__inboxmax, (int, float, Decimal)) and not isinstance(data__inboxmax, bool):
                if data__inboxmax < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".inbox_max must be bigger than or equal to 1")
        if "inbox_overflow" in data_keys:
            data_keys.remove("inbox_overflow")
            data__inboxoverflow = data["inbox_overflow"]
            if not (isinstance(data__inboxoverflow, str) and data__inboxoverflow == 'block' or isinstance(data__inboxoverflow, str) and data__inboxoverflow == 'drop_oldest' or isinstance(data__inboxoverflow, str) and data__inboxoverflow == 'drop_new' or isinstance(data__inboxoverflow, str) and data__inboxoverflow == 'error'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".inbox_overflow must be one of ['block', 'drop_oldest', 'drop_new', 'error']")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
