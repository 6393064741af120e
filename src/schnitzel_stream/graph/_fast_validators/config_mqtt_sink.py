"""Validator for the 'config.mqtt_sink' schema, for the fast path of ``validate``. GENERATED: do not edit.

fastjsonschema's compile_to_code output for that schema (see ``ops/ci/gen_fast_validators.py``);
regenerate with ``uv run python ops/ci/gen_fast_validators.py``.
"""
# mypy: ignore-errors
VERSION = "2.22.3"
from decimal import Decimal
import re
from schnitzel_stream.graph._fast_validators import JsonSchemaValueException, JsonSchemaValuesException


REGEX_PATTERNS = {
    '^(mqtts?://([^:@/\\s]*(:[^@/\\s]*)?@)?(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}/?|\\$\\{.*)(?=\\n?\\Z)': re.compile('^(mqtts?://([^:@/\\s]*(:[^@/\\s]*)?@)?(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}/?|\\$\\{.*)(?=\\n?\\Z)'),
    '^[^#+\\$][^#+]*(?=\\n?\\Z)': re.compile('^[^#+\\$][^#+]*(?=\\n?\\Z)'),
    '^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)': re.compile('^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)')
}

NoneType = type(None)

def validate(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['url', 'topic']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "url" in data_keys:
            data_keys.remove("url")
            data__url = data["url"]
            if not isinstance(data__url, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".url must be string")
            if isinstance(data__url, str):
                if not REGEX_PATTERNS['^(mqtts?://([^:@/\\s]*(:[^@/\\s]*)?@)?(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}/?|\\$\\{.*)(?=\\n?\\Z)'].search(data__url):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".url must match pattern ^(mqtts?://([^:@/\\s]*(:[^@/\\s]*)?@)?(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}/?|\\$\\{.*)(?=\\n?\\Z)")
        if "topic" in data_keys:
            data_keys.remove("topic")
            data__topic = data["topic"]
            if not isinstance(data__topic, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".topic must be string")
            if isinstance(data__topic, str):
                data__topic_len = len(data__topic)
                if data__topic_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".topic must be longer than or equal to 1 characters")
                if not REGEX_PATTERNS['^[^#+\\$][^#+]*(?=\\n?\\Z)'].search(data__topic):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".topic must match pattern ^[^#+\\$][^#+]*(?=\\n?\\Z)")
        if "topic_vars" in data_keys:
            data_keys.remove("topic_vars")
            data__topicvars = data["topic_vars"]
            if not isinstance(data__topicvars, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".topic_vars must be object")
            data__topicvars_is_dict = isinstance(data__topicvars, dict)
            if data__topicvars_is_dict:
                data__topicvars_keys = set(data__topicvars.keys())
                for data__topicvars_key in data__topicvars_keys:
                    if data__topicvars_key not in []:
                        data__topicvars_value = data__topicvars.get(data__topicvars_key)
                        if not isinstance(data__topicvars_value, (str, int)) and not (isinstance(data__topicvars_value, float) and data__topicvars_value.is_integer()) or isinstance(data__topicvars_value, bool):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".topic_vars.{data__topicvars_key}".format(**locals()) + " must be string or integer")
        if "qos" in data_keys:
            data_keys.remove("qos")
            data__qos = data["qos"]
            if not (isinstance(data__qos, (int, float)) and not isinstance(data__qos, bool) and data__qos == 0 or isinstance(data__qos, (int, float)) and not isinstance(data__qos, bool) and data__qos == 1):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".qos must be one of [0, 1]")
        if "retain" in data_keys:
            data_keys.remove("retain")
            data__retain = data["retain"]
            if not isinstance(data__retain, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".retain must be boolean")
        if "client_id" in data_keys:
            data_keys.remove("client_id")
            data__clientid = data["client_id"]
            if not isinstance(data__clientid, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".client_id must be string or null")
            if isinstance(data__clientid, str):
                data__clientid_len = len(data__clientid)
                if data__clientid_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".client_id must be longer than or equal to 1 characters")
                if data__clientid_len > 128:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".client_id must be shorter than or equal to 128 characters")
        if "protocol" in data_keys:
            data_keys.remove("protocol")
            data__protocol = data["protocol"]
            if not (isinstance(data__protocol, str) and data__protocol == 'mqttv5' or isinstance(data__protocol, str) and data__protocol == 'mqttv311'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".protocol must be one of ['mqttv5', 'mqttv311']")
        if "keepalive_sec" in data_keys:
            data_keys.remove("keepalive_sec")
            data__keepalivesec = data["keepalive_sec"]
            if not isinstance(data__keepalivesec, (int)) and not (isinstance(data__keepalivesec, float) and data__keepalivesec.is_integer()) or isinstance(data__keepalivesec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".keepalive_sec must be integer")
            if isinstance(data__keepalivesec, (int, float, Decimal)) and not isinstance(data__keepalivesec, bool):
                if data__keepalivesec < 5:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".keepalive_sec must be bigger than or equal to 5")
                if data__keepalivesec > 65535:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".keepalive_sec must be smaller than or equal to 65535")
        if "username" in data_keys:
            data_keys.remove("username")
            data__username = data["username"]
            if not isinstance(data__username, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".username must be string or null")
            if isinstance(data__username, str):
                data__username_len = len(data__username)
                if data__username_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".username must be longer than or equal to 1 characters")
        if "username_from_env" in data_keys:
            data_keys.remove("username_from_env")
            data__usernamefromenv = data["username_from_env"]
            if not isinstance(data__usernamefromenv, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".username_from_env must be string or null")
            if isinstance(data__usernamefromenv, str):
                if not REGEX_PATTERNS['^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)'].search(data__usernamefromenv):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".username_from_env must match pattern ^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)")
        if "password_from_env" in data_keys:
            data_keys.remove("password_from_env")
            data__passwordfromenv = data["password_from_env"]
            if not isinstance(data__passwordfromenv, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".password_from_env must be string or null")
            if isinstance(data__passwordfromenv, str):
                if not REGEX_PATTERNS['^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)'].search(data__passwordfromenv):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".password_from_env must match pattern ^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)")
        if "tls" in data_keys:
            data_keys.remove("tls")
            data__tls = data["tls"]
            if not isinstance(data__tls, (dict, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".tls must be object or null")
            data__tls_is_dict = isinstance(data__tls, dict)
            if data__tls_is_dict:
                if "key_file" in data__tls:
                    if "cert_file" not in data__tls:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".tls missing dependency cert_file for key_file")
                data__tls_keys = set(data__tls.keys())
                if "ca_file" in data__tls_keys:
                    data__tls_keys.remove("ca_file")
                    data__tls__cafile = data__tls["ca_file"]
                    if not isinstance(data__tls__cafile, (str, NoneType)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".tls.ca_file must be string or null")
                if "cert_file" in data__tls_keys:
                    data__tls_keys.remove("cert_file")
                    data__tls__certfile = data__tls["cert_file"]
                    if not isinstance(data__tls__certfile, (str, NoneType)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".tls.cert_file must be string or null")
                if "key_file" in data__tls_keys:
                    data__tls_keys.remove("key_file")
                    data__tls__keyfile = data__tls["key_file"]
                    if not isinstance(data__tls__keyfile, (str, NoneType)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".tls.key_file must be string or null")
                if "insecure" in data__tls_keys:
                    data__tls_keys.remove("insecure")
                    data__tls__insecure = data__tls["insecure"]
                    if not isinstance(data__tls__insecure, (bool)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".tls.insecure must be boolean")
                if data__tls_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".tls must not contain "+str(data__tls_keys)+" properties")
        if "body" in data_keys:
            data_keys.remove("body")
            data__body = data["body"]
            if not (isinstance(data__body, str) and data__body == 'payload' or isinstance(data__body, str) and data__body == 'packet'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".body must be one of ['payload', 'packet']")
        if "publish_timeout_sec" in data_keys:
            data_keys.remove("publish_timeout_sec")
            data__publishtimeoutsec = data["publish_timeout_sec"]
            if not isinstance(data__publishtimeoutsec, (int, float, Decimal)) or isinstance(data__publishtimeoutsec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".publish_timeout_sec must be number")
            if isinstance(data__publishtimeoutsec, (int, float, Decimal)) and not isinstance(data__publishtimeoutsec, bool):
                if data__publishtimeoutsec <= 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".publish_timeout_sec must be bigger than 0")
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
        if "forward" in data_keys:
            data_keys.remove("forward")
            data__forward = data["forward"]
            if not isinstance(data__forward, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".forward must be boolean")
        if "on_failure" in data_keys:
            data_keys.remove("on_failure")
            data__onfailure = data["on_failure"]
            if not (isinstance(data__onfailure, str) and data__onfailure == 'auto' or isinstance(data__onfailure, str) and data__onfailure == 'error' or isinstance(data__onfailure, str) and data__onfailure == 'drop' or isinstance(data__onfailure, str) and data__onfailure == 'keep' or isinstance(data__onfailure, str) and data__onfailure == 'dead_letter'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".on_failure must be one of ['auto', 'error', 'drop', 'keep', 'dead_letter']")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
