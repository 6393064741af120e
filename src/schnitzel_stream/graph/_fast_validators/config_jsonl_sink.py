"""Validator for the 'config.jsonl_sink' schema, for the fast path of ``validate``. GENERATED: do not edit.

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
        data__missing_keys = set(['path']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "path" in data_keys:
            data_keys.remove("path")
            data__path = data["path"]
            if not isinstance(data__path, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".path must be string")
            if isinstance(data__path, str):
                data__path_len = len(data__path)
                if data__path_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".path must be longer than or equal to 1 characters")
        if "rotate_max_bytes" in data_keys:
            data_keys.remove("rotate_max_bytes")
            data__rotatemaxbytes = data["rotate_max_bytes"]
            if not isinstance(data__rotatemaxbytes, (int)) and not (isinstance(data__rotatemaxbytes, float) and data__rotatemaxbytes.is_integer()) or isinstance(data__rotatemaxbytes, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".rotate_max_bytes must be integer")
            if isinstance(data__rotatemaxbytes, (int, float, Decimal)) and not isinstance(data__rotatemaxbytes, bool):
                if data__rotatemaxbytes < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".rotate_max_bytes must be bigger than or equal to 0")
        if "rotate_keep" in data_keys:
            data_keys.remove("rotate_keep")
            data__rotatekeep = data["rotate_keep"]
            if not isinstance(data__rotatekeep, (int)) and not (isinstance(data__rotatekeep, float) and data__rotatekeep.is_integer()) or isinstance(data__rotatekeep, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".rotate_keep must be integer")
            if isinstance(data__rotatekeep, (int, float, Decimal)) and not isinstance(data__rotatekeep, bool):
                if data__rotatekeep < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".rotate_keep must be bigger than or equal to 1")
                if data__rotatekeep > 1000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".rotate_keep must be smaller than or equal to 1000")
        if "fsync" in data_keys:
            data_keys.remove("fsync")
            data__fsync = data["fsync"]
            if not isinstance(data__fsync, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".fsync must be boolean")
        if "forward" in data_keys:
            data_keys.remove("forward")
            data__forward = data["forward"]
            if not isinstance(data__forward, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".forward must be boolean")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
