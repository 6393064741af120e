"""Validator for the 'config.synthetic_camera' schema, for the fast path of ``validate``. GENERATED: do not edit.

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
        if "width" in data_keys:
            data_keys.remove("width")
            data__width = data["width"]
            if not isinstance(data__width, (int)) and not (isinstance(data__width, float) and data__width.is_integer()) or isinstance(data__width, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".width must be integer")
            if isinstance(data__width, (int, float, Decimal)) and not isinstance(data__width, bool):
                if data__width < 16:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".width must be bigger than or equal to 16")
                if data__width > 7680:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".width must be smaller than or equal to 7680")
        if "height" in data_keys:
            data_keys.remove("height")
            data__height = data["height"]
            if not isinstance(data__height, (int)) and not (isinstance(data__height, float) and data__height.is_integer()) or isinstance(data__height, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".height must be integer")
            if isinstance(data__height, (int, float, Decimal)) and not isinstance(data__height, bool):
                if data__height < 16:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".height must be bigger than or equal to 16")
                if data__height > 4320:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".height must be smaller than or equal to 4320")
        if "fps" in data_keys:
            data_keys.remove("fps")
            data__fps = data["fps"]
            if not isinstance(data__fps, (int, float, Decimal)) or isinstance(data__fps, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".fps must be number")
            if isinstance(data__fps, (int, float, Decimal)) and not isinstance(data__fps, bool):
                if data__fps > 1000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".fps must be smaller than or equal to 1000")
                if data__fps <= 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".fps must be bigger than 0")
        if "frames" in data_keys:
            data_keys.remove("frames")
            data__frames = data["frames"]
            if not isinstance(data__frames, (int)) and not (isinstance(data__frames, float) and data__frames.is_integer()) or isinstance(data__frames, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".frames must be integer")
            if isinstance(data__frames, (int, float, Decimal)) and not isinstance(data__frames, bool):
                if data__frames < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".frames must be bigger than or equal to 0")
        if "realtime" in data_keys:
            data_keys.remove("realtime")
            data__realtime = data["realtime"]
            if not isinstance(data__realtime, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".realtime must be boolean")
        if "seed" in data_keys:
            data_keys.remove("seed")
            data__seed = data["seed"]
            if not isinstance(data__seed, (int)) and not (isinstance(data__seed, float) and data__seed.is_integer()) or isinstance(data__seed, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".seed must be integer")
        if "source_id" in data_keys:
            data_keys.remove("source_id")
            data__sourceid = data["source_id"]
            if not isinstance(data__sourceid, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".source_id must be string or null")
            if isinstance(data__sourceid, str):
                data__sourceid_len = len(data__sourceid)
                if data__sourceid_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".source_id must be longer than or equal to 1 characters")
        if "loop" in data_keys:
            data_keys.remove("loop")
            data__loop = data["loop"]
            if not isinstance(data__loop, (int)) and not (isinstance(data__loop, float) and data__loop.is_integer()) or isinstance(data__loop, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".loop must be integer")
            if isinstance(data__loop, (int, float, Decimal)) and not isinstance(data__loop, bool):
                if data__loop < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".loop must be bigger than or equal to 0")
        if "objects" in data_keys:
            data_keys.remove("objects")
            data__objects = data["objects"]
            if not isinstance(data__objects, (list)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects must be array")
            data__objects_is_list = isinstance(data__objects, (list))
            if data__objects_is_list:
                data__objects_len = len(data__objects)
                for data__objects_x, data__objects_item in enumerate(data__objects):
                    if not isinstance(data__objects_item, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}]".format(**locals()) + " must be object")
                    data__objects_item_is_dict = isinstance(data__objects_item, dict)
                    if data__objects_item_is_dict:
                        data__objects_item__missing_keys = set(['id', 'x', 'y', 'w', 'h']) - data__objects_item.keys()
                        if data__objects_item__missing_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}]".format(**locals()) + " must contain ")
                        data__objects_item_keys = set(data__objects_item.keys())
                        if "id" in data__objects_item_keys:
                            data__objects_item_keys.remove("id")
                            data__objects_item__id = data__objects_item["id"]
                            if not isinstance(data__objects_item__id, (str)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].id".format(**locals()) + " must be string")
                            if isinstance(data__objects_item__id, str):
                                data__objects_item__id_len = len(data__objects_item__id)
                                if data__objects_item__id_len < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].id".format(**locals()) + " must be longer than or equal to 1 characters")
                        if "x" in data__objects_item_keys:
                            data__objects_item_keys.remove("x")
                            data__objects_item__x = data__objects_item["x"]
                            if not isinstance(data__objects_item__x, (int)) and not (isinstance(data__objects_item__x, float) and data__objects_item__x.is_integer()) or isinstance(data__objects_item__x, bool):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].x".format(**locals()) + " must be integer")
                        if "y" in data__objects_item_keys:
                            data__objects_item_keys.remove("y")
                            data__objects_item__y = data__objects_item["y"]
                            if not isinstance(data__objects_item__y, (int)) and not (isinstance(data__objects_item__y, float) and data__objects_item__y.is_integer()) or isinstance(data__objects_item__y, bool):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].y".format(**locals()) + " must be integer")
                        if "w" in data__objects_item_keys:
                            data__objects_item_keys.remove("w")
                            data__objects_item__w = data__objects_item["w"]
                            if not isinstance(data__objects_item__w, (int)) and not (isinstance(data__objects_item__w, float) and data__objects_item__w.is_integer()) or isinstance(data__objects_item__w, bool):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].w".format(**locals()) + " must be integer")
                            if isinstance(data__objects_item__w, (int, float, Decimal)) and not isinstance(data__objects_item__w, bool):
                                if data__objects_item__w < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].w".format(**locals()) + " must be bigger than or equal to 1")
                        if "h" in data__objects_item_keys:
                            data__objects_item_keys.remove("h")
                            data__objects_item__h = data__objects_item["h"]
                            if not isinstance(data__objects_item__h, (int)) and not (isinstance(data__objects_item__h, float) and data__objects_item__h.is_integer()) or isinstance(data__objects_item__h, bool):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].h".format(**locals()) + " must be integer")
                            if isinstance(data__objects_item__h, (int, float, Decimal)) and not isinstance(data__objects_item__h, bool):
                                if data__objects_item__h < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].h".format(**locals()) + " must be bigger than or equal to 1")
                        if "dx" in data__objects_item_keys:
                            data__objects_item_keys.remove("dx")
                            data__objects_item__dx = data__objects_item["dx"]
                            if not isinstance(data__objects_item__dx, (int)) and not (isinstance(data__objects_item__dx, float) and data__objects_item__dx.is_integer()) or isinstance(data__objects_item__dx, bool):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].dx".format(**locals()) + " must be integer")
                        if "dy" in data__objects_item_keys:
                            data__objects_item_keys.remove("dy")
                            data__objects_item__dy = data__objects_item["dy"]
                            if not isinstance(data__objects_item__dy, (int)) and not (isinstance(data__objects_item__dy, float) and data__objects_item__dy.is_integer()) or isinstance(data__objects_item__dy, bool):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].dy".format(**locals()) + " must be integer")
                        if "enter" in data__objects_item_keys:
                            data__objects_item_keys.remove("enter")
                            data__objects_item__enter = data__objects_item["enter"]
                            if not isinstance(data__objects_item__enter, (int)) and not (isinstance(data__objects_item__enter, float) and data__objects_item__enter.is_integer()) or isinstance(data__objects_item__enter, bool):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].enter".format(**locals()) + " must be integer")
                            if isinstance(data__objects_item__enter, (int, float, Decimal)) and not isinstance(data__objects_item__enter, bool):
                                if data__objects_item__enter < 0:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].enter".format(**locals()) + " must be bigger than or equal to 0")
                        if "exit" in data__objects_item_keys:
                            data__objects_item_keys.remove("exit")
                            data__objects_item__exit = data__objects_item["exit"]
                            if not isinstance(data__objects_item__exit, (int, NoneType)) and not (isinstance(data__objects_item__exit, float) and data__objects_item__exit.is_integer()) or isinstance(data__objects_item__exit, bool):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].exit".format(**locals()) + " must be integer or null")
                            if isinstance(data__objects_item__exit, (int, float, Decimal)) and not isinstance(data__objects_item__exit, bool):
                                if data__objects_item__exit < 0:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].exit".format(**locals()) + " must be bigger than or equal to 0")
                        if "color" in data__objects_item_keys:
                            data__objects_item_keys.remove("color")
                            data__objects_item__color = data__objects_item["color"]
                            if not isinstance(data__objects_item__color, (list)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].color".format(**locals()) + " must be array")
                            data__objects_item__color_is_list = isinstance(data__objects_item__color, (list))
                            if data__objects_item__color_is_list:
                                data__objects_item__color_len = len(data__objects_item__color)
                                if data__objects_item__color_len < 3:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].color".format(**locals()) + " must contain at least 3 items")
                                if data__objects_item__color_len > 3:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].color".format(**locals()) + " must contain less than or equal to 3 items")
                                for data__objects_item__color_x, data__objects_item__color_item in enumerate(data__objects_item__color):
                                    if not isinstance(data__objects_item__color_item, (int)) and not (isinstance(data__objects_item__color_item, float) and data__objects_item__color_item.is_integer()) or isinstance(data__objects_item__color_item, bool):
                                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].color[{data__objects_item__color_x}]".format(**locals()) + " must be integer")
                                    if isinstance(data__objects_item__color_item, (int, float, Decimal)) and not isinstance(data__objects_item__color_item, bool):
                                        if data__objects_item__color_item < 0:
                                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].color[{data__objects_item__color_x}]".format(**locals()) + " must be bigger than or equal to 0")
                                        if data__objects_item__color_item > 255:
                                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}].color[{data__objects_item__color_x}]".format(**locals()) + " must be smaller than or equal to 255")
                        if data__objects_item_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".objects[{data__objects_x}]".format(**locals()) + " must not contain "+str(data__objects_item_keys)+" properties")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
