"""Validator for the 'config.http_sink' schema, for the fast path of ``validate``. GENERATED: do not edit.

fastjsonschema's compile_to_code output for that schema (see ``ops/ci/gen_fast_validators.py``);
regenerate with ``uv run python ops/ci/gen_fast_validators.py``.
"""
# mypy: ignore-errors
VERSION = "2.22.3"
from decimal import Decimal
import re
from schnitzel_stream.graph._fast_validators import JsonSchemaValueException, JsonSchemaValuesException


REGEX_PATTERNS = {
    '^(https?://|\\$\\{)': re.compile('^(https?://|\\$\\{)'),
    '^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)': re.compile('^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)')
}

NoneType = type(None)

def validate(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_any_of_count1 = 0
    if not data_any_of_count1:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['url']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
            data_any_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count1:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['url_from_env']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
            data_any_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count1:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " cannot be validated by any definition")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "url" in data_keys:
            data_keys.remove("url")
            data__url = data["url"]
            if not isinstance(data__url, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".url must be string")
            if isinstance(data__url, str):
                if not REGEX_PATTERNS['^(https?://|\\$\\{)'].search(data__url):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".url must match pattern ^(https?://|\\$\\{)")
        if "url_from_env" in data_keys:
            data_keys.remove("url_from_env")
            data__urlfromenv = data["url_from_env"]
            if not isinstance(data__urlfromenv, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".url_from_env must be string")
            if isinstance(data__urlfromenv, str):
                if not REGEX_PATTERNS['^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)'].search(data__urlfromenv):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".url_from_env must match pattern ^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)")
        if "method" in data_keys:
            data_keys.remove("method")
            data__method = data["method"]
            if not (isinstance(data__method, str) and data__method == 'POST' or isinstance(data__method, str) and data__method == 'PUT'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".method must be one of ['POST', 'PUT']")
        if "timeout_sec" in data_keys:
            data_keys.remove("timeout_sec")
            data__timeoutsec = data["timeout_sec"]
            if not isinstance(data__timeoutsec, (int, float, Decimal)) or isinstance(data__timeoutsec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".timeout_sec must be number")
            if isinstance(data__timeoutsec, (int, float, Decimal)) and not isinstance(data__timeoutsec, bool):
                if data__timeoutsec <= 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".timeout_sec must be bigger than 0")
        if "connect_timeout_sec" in data_keys:
            data_keys.remove("connect_timeout_sec")
            data__connecttimeoutsec = data["connect_timeout_sec"]
            if not isinstance(data__connecttimeoutsec, (int, float, Decimal, NoneType)) or isinstance(data__connecttimeoutsec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".connect_timeout_sec must be number or null")
            if isinstance(data__connecttimeoutsec, (int, float, Decimal)) and not isinstance(data__connecttimeoutsec, bool):
                if data__connecttimeoutsec <= 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".connect_timeout_sec must be bigger than 0")
        if "body" in data_keys:
            data_keys.remove("body")
            data__body = data["body"]
            if not (isinstance(data__body, str) and data__body == 'payload' or isinstance(data__body, str) and data__body == 'packet'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".body must be one of ['payload', 'packet']")
        if "headers" in data_keys:
            data_keys.remove("headers")
            data__headers = data["headers"]
            if not isinstance(data__headers, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".headers must be object")
            data__headers_is_dict = isinstance(data__headers, dict)
            if data__headers_is_dict:
                data__headers_keys = set(data__headers.keys())
                for data__headers_key in data__headers_keys:
                    if data__headers_key not in []:
                        data__headers_value = data__headers.get(data__headers_key)
                        if not isinstance(data__headers_value, (str)):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".headers.{data__headers_key}".format(**locals()) + " must be string")
        if "headers_from_env" in data_keys:
            data_keys.remove("headers_from_env")
            data__headersfromenv = data["headers_from_env"]
            if not isinstance(data__headersfromenv, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".headers_from_env must be object")
            data__headersfromenv_is_dict = isinstance(data__headersfromenv, dict)
            if data__headersfromenv_is_dict:
                data__headersfromenv_keys = set(data__headersfromenv.keys())
                for data__headersfromenv_key in data__headersfromenv_keys:
                    if data__headersfromenv_key not in []:
                        data__headersfromenv_value = data__headersfromenv.get(data__headersfromenv_key)
                        if not isinstance(data__headersfromenv_value, (str)):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".headers_from_env.{data__headersfromenv_key}".format(**locals()) + " must be string")
                        if isinstance(data__headersfromenv_value, str):
                            if not REGEX_PATTERNS['^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)'].search(data__headersfromenv_value):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".headers_from_env.{data__headersfromenv_key}".format(**locals()) + " must match pattern ^[A-Za-z_][A-Za-z0-9_]*(?=\\n?\\Z)")
        if "idempotency_header" in data_keys:
            data_keys.remove("idempotency_header")
            data__idempotencyheader = data["idempotency_header"]
            if not isinstance(data__idempotencyheader, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".idempotency_header must be string")
        if "retry_max_attempts" in data_keys:
            data_keys.remove("retry_max_attempts")
            data__retrymaxattempts = data["retry_max_attempts"]
            if not isinstance(data__retrymaxattempts, (int)) and not (isinstance(data__retrymaxattempts, float) and data__retrymaxattempts.is_integer()) or isinstance(data__retrymaxattempts, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_max_attempts must be integer")
            if isinstance(data__retrymaxattempts, (int, float, Decimal)) and not isinstance(data__retrymaxattempts, bool):
                if data__retrymaxattempts < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_max_attempts must be bigger than or equal to 0")
        if "retry_backoff_sec" in data_keys:
            data_keys.remove("retry_backoff_sec")
            data__retrybackoffsec = data["retry_backoff_sec"]
            if not isinstance(data__retrybackoffsec, (int, float, Decimal)) or isinstance(data__retrybackoffsec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_backoff_sec must be number")
            if isinstance(data__retrybackoffsec, (int, float, Decimal)) and not isinstance(data__retrybackoffsec, bool):
                if data__retrybackoffsec < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_backoff_sec must be bigger than or equal to 0")
        if "retry_backoff_max_sec" in data_keys:
            data_keys.remove("retry_backoff_max_sec")
            data__retrybackoffmaxsec = data["retry_backoff_max_sec"]
            if not isinstance(data__retrybackoffmaxsec, (int, float, Decimal)) or isinstance(data__retrybackoffmaxsec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_backoff_max_sec must be number")
            if isinstance(data__retrybackoffmaxsec, (int, float, Decimal)) and not isinstance(data__retrybackoffmaxsec, bool):
                if data__retrybackoffmaxsec < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_backoff_max_sec must be bigger than or equal to 0")
        if "retry_on_status" in data_keys:
            data_keys.remove("retry_on_status")
            data__retryonstatus = data["retry_on_status"]
            if not isinstance(data__retryonstatus, (list)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_on_status must be array")
            data__retryonstatus_is_list = isinstance(data__retryonstatus, (list))
            if data__retryonstatus_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__retryonstatus_len = len(data__retryonstatus)
                if data__retryonstatus_len > len(set(fn(data__retryonstatus_x) for data__retryonstatus_x in data__retryonstatus)):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_on_status must contain unique items")
                for data__retryonstatus_x, data__retryonstatus_item in enumerate(data__retryonstatus):
                    if not isinstance(data__retryonstatus_item, (int)) and not (isinstance(data__retryonstatus_item, float) and data__retryonstatus_item.is_integer()) or isinstance(data__retryonstatus_item, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_on_status[{data__retryonstatus_x}]".format(**locals()) + " must be integer")
                    if isinstance(data__retryonstatus_item, (int, float, Decimal)) and not isinstance(data__retryonstatus_item, bool):
                        if data__retryonstatus_item < 100:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_on_status[{data__retryonstatus_x}]".format(**locals()) + " must be bigger than or equal to 100")
                        if data__retryonstatus_item > 599:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_on_status[{data__retryonstatus_x}]".format(**locals()) + " must be smaller than or equal to 599")
        if "retry_budget_per_sec" in data_keys:
            data_keys.remove("retry_budget_per_sec")
            data__retrybudgetpersec = data["retry_budget_per_sec"]
            if not isinstance(data__retrybudgetpersec, (int, float, Decimal)) or isinstance(data__retrybudgetpersec, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_budget_per_sec must be number")
            if isinstance(data__retrybudgetpersec, (int, float, Decimal)) and not isinstance(data__retrybudgetpersec, bool):
                if data__retrybudgetpersec < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".retry_budget_per_sec must be bigger than or equal to 0")
        if "forward" in data_keys:
            data_keys.remove("forward")
            data__forward = data["forward"]
            if not isinstance(data__forward, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".forward must be boolean")
        if "batch_max" in data_keys:
            data_keys.remove("batch_max")
            data__batchmax = data["batch_max"]
            if not isinstance(data__batchmax, (int)) and not (isinstance(data__batchmax, float) and data__batchmax.is_integer()) or isinstance(data__batchmax, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".batch_max must be integer")
            if isinstance(data__batchmax, (int, float, Decimal)) and not isinstance(data__batchmax, bool):
                if data__batchmax < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".batch_max must be bigger than or equal to 1")
                if data__batchmax > 10000:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".batch_max must be smaller than or equal to 10000")
        if "batch_linger_ms" in data_keys:
            data_keys.remove("batch_linger_ms")
            data__batchlingerms = data["batch_linger_ms"]
            if not isinstance(data__batchlingerms, (int, float, Decimal)) or isinstance(data__batchlingerms, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".batch_linger_ms must be number")
            if isinstance(data__batchlingerms, (int, float, Decimal)) and not isinstance(data__batchlingerms, bool):
                if data__batchlingerms < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".batch_linger_ms must be bigger than or equal to 0")
        if "on_failure" in data_keys:
            data_keys.remove("on_failure")
            data__onfailure = data["on_failure"]
            if not (isinstance(data__onfailure, str) and data__onfailure == 'auto' or isinstance(data__onfailure, str) and data__onfailure == 'error' or isinstance(data__onfailure, str) and data__onfailure == 'drop' or isinstance(data__onfailure, str) and data__onfailure == 'keep' or isinstance(data__onfailure, str) and data__onfailure == 'dead_letter'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".on_failure must be one of ['auto', 'error', 'drop', 'keep', 'dead_letter']")
        if "reject_status" in data_keys:
            data_keys.remove("reject_status")
            data__rejectstatus = data["reject_status"]
            if not isinstance(data__rejectstatus, (list)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".reject_status must be array")
            data__rejectstatus_is_list = isinstance(data__rejectstatus, (list))
            if data__rejectstatus_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__rejectstatus_len = len(data__rejectstatus)
                if data__rejectstatus_len > len(set(fn(data__rejectstatus_x) for data__rejectstatus_x in data__rejectstatus)):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".reject_status must contain unique items")
                for data__rejectstatus_x, data__rejectstatus_item in enumerate(data__rejectstatus):
                    if not isinstance(data__rejectstatus_item, (int)) and not (isinstance(data__rejectstatus_item, float) and data__rejectstatus_item.is_integer()) or isinstance(data__rejectstatus_item, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".reject_status[{data__rejectstatus_x}]".format(**locals()) + " must be integer")
                    if isinstance(data__rejectstatus_item, (int, float, Decimal)) and not isinstance(data__rejectstatus_item, bool):
                        if data__rejectstatus_item < 400:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".reject_status[{data__rejectstatus_x}]".format(**locals()) + " must be bigger than or equal to 400")
                        if data__rejectstatus_item > 499:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".reject_status[{data__rejectstatus_x}]".format(**locals()) + " must be smaller than or equal to 499")
        if "max_response_bytes" in data_keys:
            data_keys.remove("max_response_bytes")
            data__maxresponsebytes = data["max_response_bytes"]
            if not isinstance(data__maxresponsebytes, (int)) and not (isinstance(data__maxresponsebytes, float) and data__maxresponsebytes.is_integer()) or isinstance(data__maxresponsebytes, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_response_bytes must be integer")
            if isinstance(data__maxresponsebytes, (int, float, Decimal)) and not isinstance(data__maxresponsebytes, bool):
                if data__maxresponsebytes < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_response_bytes must be bigger than or equal to 0")
        if "verify_tls" in data_keys:
            data_keys.remove("verify_tls")
            data__verifytls = data["verify_tls"]
            if not isinstance(data__verifytls, (bool, str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".verify_tls must be boolean or string")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
