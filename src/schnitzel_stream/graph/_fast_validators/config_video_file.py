"""Validator for the 'config.video_file' schema, for the fast path of ``validate``. GENERATED: do not edit.

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
        if "source_id" in data_keys:
            data_keys.remove("source_id")
            data__sourceid = data["source_id"]
            if not isinstance(data__sourceid, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".source_id must be string or null")
            if isinstance(data__sourceid, str):
                data__sourceid_len = len(data__sourceid)
                if data__sourceid_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".source_id must be longer than or equal to 1 characters")
        if "max_frames" in data_keys:
            data_keys.remove("max_frames")
            data__maxframes = data["max_frames"]
            if not isinstance(data__maxframes, (int)) and not (isinstance(data__maxframes, float) and data__maxframes.is_integer()) or isinstance(data__maxframes, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_frames must be integer")
            if isinstance(data__maxframes, (int, float, Decimal)) and not isinstance(data__maxframes, bool):
                if data__maxframes < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_frames must be bigger than or equal to 0")
        if "loop" in data_keys:
            data_keys.remove("loop")
            data__loop = data["loop"]
            if not isinstance(data__loop, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".loop must be boolean")
        if "realtime" in data_keys:
            data_keys.remove("realtime")
            data__realtime = data["realtime"]
            if not isinstance(data__realtime, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".realtime must be boolean")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
