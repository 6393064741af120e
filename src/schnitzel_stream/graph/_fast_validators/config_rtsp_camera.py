"""Validator for the 'config.rtsp_camera' schema, for the fast path of ``validate``. GENERATED: do not edit.

fastjsonschema's compile_to_code output for that schema (see ``ops/ci/gen_fast_validators.py``);
regenerate with ``uv run python ops/ci/gen_fast_validators.py``.
"""
# mypy: ignore-errors
VERSION = "2.22.3"
from decimal import Decimal
import re
from schnitzel_stream.graph._fast_validators import JsonSchemaValueException, JsonSchemaValuesException


REGEX_PATTERNS = {
    '^rtsps?://[^\\s/?#]+([/?#]\\S*)?(?=\\n?\\Z)': re.compile('^rtsps?://[^\\s/?#]+([/?#]\\S*)?(?=\\n?\\Z)'),
    '^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)': re.compile('^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)')
}

NoneType = type(None)

def validate(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_one_of_count1 = 0
    if data_one_of_count1 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['url']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
            data_one_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count1 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['url_from_env']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
            data_one_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count1 != 1:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be valid exactly by one definition")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "url" in data_keys:
            data_keys.remove("url")
            data__url = data["url"]
            if not isinstance(data__url, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".url must be string")
            if isinstance(data__url, str):
                if not REGEX_PATTERNS['^rtsps?://[^\\s/?#]+([/?#]\\S*)?(?=\\n?\\Z)'].search(data__url):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".url must match pattern ^rtsps?://[^\\s/?#]+([/?#]\\S*)?(?=\\n?\\Z)")
        if "url_from_env" in data_keys:
            data_keys.remove("url_from_env")
            data__urlfromenv = data["url_from_env"]
            if not isinstance(data__urlfromenv, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".url_from_env must be string")
            if isinstance(data__urlfromenv, str):
                if not REGEX_PATTERNS['^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)'].search(data__urlfromenv):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".url_from_env must match pattern ^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)")
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
        if "transport" in data_keys:
            data_keys.remove("transport")
            data__transport = data["transport"]
            if not (isinstance(data__transport, str) and data__transport == 'tcp' or isinstance(data__transport, str) and data__transport == 'udp'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".transport must be one of ['tcp', 'udp']")
        if "latest_frame" in data_keys:
            data_keys.remove("latest_frame")
            data__latestframe = data["latest_frame"]
            if not isinstance(data__latestframe, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".latest_frame must be boolean")
        if "decode_threads" in data_keys:
            data_keys.remove("decode_threads")
            data__decodethreads = data["decode_threads"]
            if not isinstance(data__decodethreads, (int)) and not (isinstance(data__decodethreads, float) and data__decodethreads.is_integer()) or isinstance(data__decodethreads, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".decode_threads must be integer")
            if isinstance(data__decodethreads, (int, float, Decimal)) and not isinstance(data__decodethreads, bool):
                if data__decodethreads < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".decode_threads must be bigger than or equal to 0")
                if data__decodethreads > 64:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".decode_threads must be smaller than or equal to 64")
        if "width" in data_keys:
            data_keys.remove("width")
            data__width = data["width"]
            if not isinstance(data__width, (int, NoneType)) and not (isinstance(data__width, float) and data__width.is_integer()) or isinstance(data__width, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".width must be integer or null")
            if isinstance(data__width, (int, float, Decimal)) and not isinstance(data__width, bool):
                if data__width < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".width must be bigger than or equal to 1")
        if "height" in data_keys:
            data_keys.remove("height")
            data__height = data["height"]
            if not isinstance(data__height, (int, NoneType)) and not (isinstance(data__height, float) and data__height.is_integer()) or isinstance(data__height, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".height must be integer or null")
            if isinstance(data__height, (int, float, Decimal)) and not isinstance(data__height, bool):
                if data__height < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".height must be bigger than or equal to 1")
        if "open_timeout_sec" in data_keys:
            data_keys.remove("open_timeout_sec")
            data__opentimeoutsec = data["open_timeout_sec"]
            if not isinstance(data__opentimeoutsec, (int, float, Decimal)) or isinstance(data__opentimeoutsec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".open_timeout_sec must be number")
            if isinstance(data__opentimeoutsec, (int, float, Decimal)) and not isinstance(data__opentimeoutsec, bool):
                if data__opentimeoutsec <= 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".open_timeout_sec must be bigger than 0")
        if "read_timeout_sec" in data_keys:
            data_keys.remove("read_timeout_sec")
            data__readtimeoutsec = data["read_timeout_sec"]
            if not isinstance(data__readtimeoutsec, (int, float, Decimal)) or isinstance(data__readtimeoutsec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".read_timeout_sec must be number")
            if isinstance(data__readtimeoutsec, (int, float, Decimal)) and not isinstance(data__readtimeoutsec, bool):
                if data__readtimeoutsec <= 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".read_timeout_sec must be bigger than 0")
        if "stall_timeout_sec" in data_keys:
            data_keys.remove("stall_timeout_sec")
            data__stalltimeoutsec = data["stall_timeout_sec"]
            if not isinstance(data__stalltimeoutsec, (int, float, Decimal)) or isinstance(data__stalltimeoutsec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".stall_timeout_sec must be number")
            if isinstance(data__stalltimeoutsec, (int, float, Decimal)) and not isinstance(data__stalltimeoutsec, bool):
                if data__stalltimeoutsec <= 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".stall_timeout_sec must be bigger than 0")
        if "reconnect" in data_keys:
            data_keys.remove("reconnect")
            data__reconnect = data["reconnect"]
            if not isinstance(data__reconnect, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".reconnect must be boolean")
        if "reconnect_backoff_sec" in data_keys:
            data_keys.remove("reconnect_backoff_sec")
            data__reconnectbackoffsec = data["reconnect_backoff_sec"]
            if not isinstance(data__reconnectbackoffsec, (int, float, Decimal)) or isinstance(data__reconnectbackoffsec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".reconnect_backoff_sec must be number")
            if isinstance(data__reconnectbackoffsec, (int, float, Decimal)) and not isinstance(data__reconnectbackoffsec, bool):
                if data__reconnectbackoffsec <= 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".reconnect_backoff_sec must be bigger than 0")
        if "reconnect_backoff_max_sec" in data_keys:
            data_keys.remove("reconnect_backoff_max_sec")
            data__reconnectbackoffmaxsec = data["reconnect_backoff_max_sec"]
            if not isinstance(data__reconnectbackoffmaxsec, (int, float, Decimal)) or isinstance(data__reconnectbackoffmaxsec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".reconnect_backoff_max_sec must be number")
            if isinstance(data__reconnectbackoffmaxsec, (int, float, Decimal)) and not isinstance(data__reconnectbackoffmaxsec, bool):
                if data__reconnectbackoffmaxsec <= 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".reconnect_backoff_max_sec must be bigger than 0")
        if "reconnect_max_attempts" in data_keys:
            data_keys.remove("reconnect_max_attempts")
            data__reconnectmaxattempts = data["reconnect_max_attempts"]
            if not isinstance(data__reconnectmaxattempts, (int)) and not (isinstance(data__reconnectmaxattempts, float) and data__reconnectmaxattempts.is_integer()) or isinstance(data__reconnectmaxattempts, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".reconnect_max_attempts must be integer")
            if isinstance(data__reconnectmaxattempts, (int, float, Decimal)) and not isinstance(data__reconnectmaxattempts, bool):
                if data__reconnectmaxattempts < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".reconnect_max_attempts must be bigger than or equal to 0")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
