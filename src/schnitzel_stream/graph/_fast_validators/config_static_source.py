"""Validator for the 'config.static_source' schema, for the fast path of ``validate``. GENERATED: do not edit.

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
        if "packets" in data_keys:
            data_keys.remove("packets")
            data__packets = data["packets"]
            if not isinstance(data__packets, (list)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".packets must be array")
            data__packets_is_list = isinstance(data__packets, (list))
            if data__packets_is_list:
                data__packets_len = len(data__packets)
                for data__packets_x, data__packets_item in enumerate(data__packets):
                    if not isinstance(data__packets_item, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".packets[{data__packets_x}]".format(**locals()) + " must be object")
                    data__packets_item_is_dict = isinstance(data__packets_item, dict)
                    if data__packets_item_is_dict:
                        data__packets_item_keys = set(data__packets_item.keys())
                        if "kind" in data__packets_item_keys:
                            data__packets_item_keys.remove("kind")
                            data__packets_item__kind = data__packets_item["kind"]
                            if not isinstance(data__packets_item__kind, (str)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".packets[{data__packets_x}].kind".format(**locals()) + " must be string")
                            if isinstance(data__packets_item__kind, str):
                                data__packets_item__kind_len = len(data__packets_item__kind)
                                if data__packets_item__kind_len < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".packets[{data__packets_x}].kind".format(**locals()) + " must be longer than or equal to 1 characters")
                        if "source_id" in data__packets_item_keys:
                            data__packets_item_keys.remove("source_id")
                            data__packets_item__sourceid = data__packets_item["source_id"]
                            if not isinstance(data__packets_item__sourceid, (str, NoneType)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".packets[{data__packets_x}].source_id".format(**locals()) + " must be string or null")
                            if isinstance(data__packets_item__sourceid, str):
                                data__packets_item__sourceid_len = len(data__packets_item__sourceid)
                                if data__packets_item__sourceid_len < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".packets[{data__packets_x}].source_id".format(**locals()) + " must be longer than or equal to 1 characters")
                        if "payload" in data__packets_item_keys:
                            data__packets_item_keys.remove("payload")
                            data__packets_item__payload = data__packets_item["payload"]
                        if "ts" in data__packets_item_keys:
                            data__packets_item_keys.remove("ts")
                            data__packets_item__ts = data__packets_item["ts"]
                            if not isinstance(data__packets_item__ts, (str, NoneType)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".packets[{data__packets_x}].ts".format(**locals()) + " must be string or null")
                        if "meta" in data__packets_item_keys:
                            data__packets_item_keys.remove("meta")
                            data__packets_item__meta = data__packets_item["meta"]
                            if not isinstance(data__packets_item__meta, (dict, NoneType)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".packets[{data__packets_x}].meta".format(**locals()) + " must be object or null")
                        if data__packets_item_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".packets[{data__packets_x}]".format(**locals()) + " must not contain "+str(data__packets_item_keys)+" properties")
        if "repeat" in data_keys:
            data_keys.remove("repeat")
            data__repeat = data["repeat"]
            if not isinstance(data__repeat, (int)) and not (isinstance(data__repeat, float) and data__repeat.is_integer()) or isinstance(data__repeat, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".repeat must be integer")
            if isinstance(data__repeat, (int, float, Decimal)) and not isinstance(data__repeat, bool):
                if data__repeat < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".repeat must be bigger than or equal to 0")
        if "interval" in data_keys:
            data_keys.remove("interval")
            data__interval = data["interval"]
            if not isinstance(data__interval, (int, float, Decimal)) or isinstance(data__interval, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".interval must be number")
            if isinstance(data__interval, (int, float, Decimal)) and not isinstance(data__interval, bool):
                if data__interval < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".interval must be bigger than or equal to 0")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
