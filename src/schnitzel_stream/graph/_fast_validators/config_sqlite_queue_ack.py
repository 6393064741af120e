"""Validator for the 'config.sqlite_queue_ack' schema, for the fast path of ``validate``. GENERATED: do not edit.

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
        if "forward" in data_keys:
            data_keys.remove("forward")
            data__forward = data["forward"]
            if not isinstance(data__forward, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".forward must be boolean")
        if "meta_key" in data_keys:
            data_keys.remove("meta_key")
            data__metakey = data["meta_key"]
            if not isinstance(data__metakey, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".meta_key must be string")
            if isinstance(data__metakey, str):
                data__metakey_len = len(data__metakey)
                if data__metakey_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".meta_key must be longer than or equal to 1 characters")
        if "commit_every" in data_keys:
            data_keys.remove("commit_every")
            data__commitevery = data["commit_every"]
            if not isinstance(data__commitevery, (int)) and not (isinstance(data__commitevery, float) and data__commitevery.is_integer()) or isinstance(data__commitevery, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".commit_every must be integer")
            if isinstance(data__commitevery, (int, float, Decimal)) and not isinstance(data__commitevery, bool):
                if data__commitevery < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".commit_every must be bigger than or equal to 1")
        if "commit_interval_ms" in data_keys:
            data_keys.remove("commit_interval_ms")
            data__commitintervalms = data["commit_interval_ms"]
            if not isinstance(data__commitintervalms, (int)) and not (isinstance(data__commitintervalms, float) and data__commitintervalms.is_integer()) or isinstance(data__commitintervalms, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".commit_interval_ms must be integer")
            if isinstance(data__commitintervalms, (int, float, Decimal)) and not isinstance(data__commitintervalms, bool):
                if data__commitintervalms < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".commit_interval_ms must be bigger than or equal to 1")
                if data__commitintervalms > 60000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".commit_interval_ms must be smaller than or equal to 60000")
        if "commit_max_batch" in data_keys:
            data_keys.remove("commit_max_batch")
            data__commitmaxbatch = data["commit_max_batch"]
            if not isinstance(data__commitmaxbatch, (int)) and not (isinstance(data__commitmaxbatch, float) and data__commitmaxbatch.is_integer()) or isinstance(data__commitmaxbatch, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".commit_max_batch must be integer")
            if isinstance(data__commitmaxbatch, (int, float, Decimal)) and not isinstance(data__commitmaxbatch, bool):
                if data__commitmaxbatch < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".commit_max_batch must be bigger than or equal to 1")
                if data__commitmaxbatch > 100000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".commit_max_batch must be smaller than or equal to 100000")
        if "synchronous" in data_keys:
            data_keys.remove("synchronous")
            data__synchronous = data["synchronous"]
            if not isinstance(data__synchronous, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".synchronous must be string")
            if not (isinstance(data__synchronous, str) and data__synchronous == 'full' or isinstance(data__synchronous, str) and data__synchronous == 'normal'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".synchronous must be one of ['full', 'normal']")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
