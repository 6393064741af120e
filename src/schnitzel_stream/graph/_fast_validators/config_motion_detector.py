"""Validator for the 'config.motion_detector' schema, for the fast path of ``validate``. GENERATED: do not edit.

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
        if "threshold" in data_keys:
            data_keys.remove("threshold")
            data__threshold = data["threshold"]
            if not isinstance(data__threshold, (int)) and not (isinstance(data__threshold, float) and data__threshold.is_integer()) or isinstance(data__threshold, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".threshold must be integer")
            if isinstance(data__threshold, (int, float, Decimal)) and not isinstance(data__threshold, bool):
                if data__threshold < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".threshold must be bigger than or equal to 1")
                if data__threshold > 254:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".threshold must be smaller than or equal to 254")
        if "min_area" in data_keys:
            data_keys.remove("min_area")
            data__minarea = data["min_area"]
            if not isinstance(data__minarea, (int)) and not (isinstance(data__minarea, float) and data__minarea.is_integer()) or isinstance(data__minarea, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".min_area must be integer")
            if isinstance(data__minarea, (int, float, Decimal)) and not isinstance(data__minarea, bool):
                if data__minarea < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".min_area must be bigger than or equal to 1")
        if "downscale" in data_keys:
            data_keys.remove("downscale")
            data__downscale = data["downscale"]
            if not isinstance(data__downscale, (int)) and not (isinstance(data__downscale, float) and data__downscale.is_integer()) or isinstance(data__downscale, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".downscale must be integer")
            if isinstance(data__downscale, (int, float, Decimal)) and not isinstance(data__downscale, bool):
                if data__downscale < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".downscale must be bigger than or equal to 1")
                if data__downscale > 16:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".downscale must be smaller than or equal to 16")
        if "blur" in data_keys:
            data_keys.remove("blur")
            data__blur = data["blur"]
            if not isinstance(data__blur, (int)) and not (isinstance(data__blur, float) and data__blur.is_integer()) or isinstance(data__blur, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".blur must be integer")
            if isinstance(data__blur, (int, float, Decimal)) and not isinstance(data__blur, bool):
                if data__blur < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".blur must be bigger than or equal to 0")
                if data__blur > 31:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".blur must be smaller than or equal to 31")
        if "learning_rate" in data_keys:
            data_keys.remove("learning_rate")
            data__learningrate = data["learning_rate"]
            if not isinstance(data__learningrate, (int, float, Decimal)) or isinstance(data__learningrate, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".learning_rate must be number")
            if isinstance(data__learningrate, (int, float, Decimal)) and not isinstance(data__learningrate, bool):
                if data__learningrate < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".learning_rate must be bigger than or equal to 0")
                if data__learningrate > 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".learning_rate must be smaller than or equal to 1")
        if "absorb_after" in data_keys:
            data_keys.remove("absorb_after")
            data__absorbafter = data["absorb_after"]
            if not isinstance(data__absorbafter, (int)) and not (isinstance(data__absorbafter, float) and data__absorbafter.is_integer()) or isinstance(data__absorbafter, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".absorb_after must be integer")
            if isinstance(data__absorbafter, (int, float, Decimal)) and not isinstance(data__absorbafter, bool):
                if data__absorbafter < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".absorb_after must be bigger than or equal to 0")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
