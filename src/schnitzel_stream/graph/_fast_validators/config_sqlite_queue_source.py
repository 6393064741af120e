"""Validator for the 'config.sqlite_queue_source' schema, for the fast path of ``validate``. GENERATED: do not edit.

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
        if "meta_key" in data_keys:
            data_keys.remove("meta_key")
            data__metakey = data["meta_key"]
            if not isinstance(data__metakey, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".meta_key must be string")
            if isinstance(data__metakey, str):
                data__metakey_len = len(data__metakey)
                if data__metakey_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".meta_key must be longer than or equal to 1 characters")
        if "limit" in data_keys:
            data_keys.remove("limit")
            data__limit = data["limit"]
            if not isinstance(data__limit, (int)) and not (isinstance(data__limit, float) and data__limit.is_integer()) or isinstance(data__limit, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".limit must be integer")
            if isinstance(data__limit, (int, float, Decimal)) and not isinstance(data__limit, bool):
                if data__limit < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".limit must be bigger than or equal to 1")
                if data__limit > 10000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".limit must be smaller than or equal to 10000")
        if "lease_sec" in data_keys:
            data_keys.remove("lease_sec")
            data__leasesec = data["lease_sec"]
            if not isinstance(data__leasesec, (int, float, Decimal)) or isinstance(data__leasesec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".lease_sec must be number")
            if isinstance(data__leasesec, (int, float, Decimal)) and not isinstance(data__leasesec, bool):
                if data__leasesec <= 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".lease_sec must be bigger than 0")
        if "follow" in data_keys:
            data_keys.remove("follow")
            data__follow = data["follow"]
            if not isinstance(data__follow, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".follow must be boolean")
        if "poll_interval_ms" in data_keys:
            data_keys.remove("poll_interval_ms")
            data__pollintervalms = data["poll_interval_ms"]
            if not isinstance(data__pollintervalms, (int)) and not (isinstance(data__pollintervalms, float) and data__pollintervalms.is_integer()) or isinstance(data__pollintervalms, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".poll_interval_ms must be integer")
            if isinstance(data__pollintervalms, (int, float, Decimal)) and not isinstance(data__pollintervalms, bool):
                if data__pollintervalms < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".poll_interval_ms must be bigger than or equal to 1")
                if data__pollintervalms > 60000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".poll_interval_ms must be smaller than or equal to 60000")
        if "delete_on_emit" in data_keys:
            data_keys.remove("delete_on_emit")
            data__deleteonemit = data["delete_on_emit"]
            if not isinstance(data__deleteonemit, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".delete_on_emit must be boolean")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
