"""Validator for the 'skeleton' schema, for the fast path of ``validate``. GENERATED: do not edit.

fastjsonschema's compile_to_code output for that schema (see ``ops/ci/gen_fast_validators.py``);
regenerate with ``uv run python ops/ci/gen_fast_validators.py``.
"""
# mypy: ignore-errors
VERSION = "2.22.3"
from decimal import Decimal
import re
from schnitzel_stream.graph._fast_validators import JsonSchemaValueException, JsonSchemaValuesException


REGEX_PATTERNS = {
    '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*(?=\\n?\\Z)': re.compile('^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*(?=\\n?\\Z)'),
    '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}(?=\\n?\\Z)': re.compile('^[A-Za-z0-9][A-Za-z0-9_-]{0,63}(?=\\n?\\Z)')
}

NoneType = type(None)

def validate(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['version', 'nodes']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "version" in data_keys:
            data_keys.remove("version")
            data__version = data["version"]
            if not (isinstance(data__version, (int, float)) and not isinstance(data__version, bool) and data__version == 2):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".version must be one of [2]")
        if "plugins" in data_keys:
            data_keys.remove("plugins")
            data__plugins = data["plugins"]
            if not isinstance(data__plugins, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".plugins must be object")
            data__plugins_is_dict = isinstance(data__plugins, dict)
            if data__plugins_is_dict:
                data__plugins_keys = set(data__plugins.keys())
                if "allow" in data__plugins_keys:
                    data__plugins_keys.remove("allow")
                    data__plugins__allow = data__plugins["allow"]
                    if not isinstance(data__plugins__allow, (list)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".plugins.allow must be array")
                    data__plugins__allow_is_list = isinstance(data__plugins__allow, (list))
                    if data__plugins__allow_is_list:
                        data__plugins__allow_len = len(data__plugins__allow)
                        for data__plugins__allow_x, data__plugins__allow_item in enumerate(data__plugins__allow):
                            if not isinstance(data__plugins__allow_item, (str)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".plugins.allow[{data__plugins__allow_x}]".format(**locals()) + " must be string")
                            if isinstance(data__plugins__allow_item, str):
                                if not REGEX_PATTERNS['^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*(?=\\n?\\Z)'].search(data__plugins__allow_item):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".plugins.allow[{data__plugins__allow_x}]".format(**locals()) + " must match pattern ^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*(?=\\n?\\Z)")
                if data__plugins_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".plugins must not contain "+str(data__plugins_keys)+" properties")
        if "cameras" in data_keys:
            data_keys.remove("cameras")
            data__cameras = data["cameras"]
            if not isinstance(data__cameras, (list)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cameras must be array")
            data__cameras_is_list = isinstance(data__cameras, (list))
            if data__cameras_is_list:
                data__cameras_len = len(data__cameras)
                if data__cameras_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".cameras must contain at least 1 items")
                for data__cameras_x, data__cameras_item in enumerate(data__cameras):
                    if not isinstance(data__cameras_item, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".cameras[{data__cameras_x}]".format(**locals()) + " must be object")
                    data__cameras_item_is_dict = isinstance(data__cameras_item, dict)
                    if data__cameras_item_is_dict:
                        data__cameras_item__missing_keys = set(['id']) - data__cameras_item.keys()
                        if data__cameras_item__missing_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cameras[{data__cameras_x}]".format(**locals()) + " must contain ")
                        data__cameras_item_keys = set(data__cameras_item.keys())
                        if "id" in data__cameras_item_keys:
                            data__cameras_item_keys.remove("id")
                            data__cameras_item__id = data__cameras_item["id"]
                            if not isinstance(data__cameras_item__id, (str)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cameras[{data__cameras_x}].id".format(**locals()) + " must be string")
                            if isinstance(data__cameras_item__id, str):
                                if not REGEX_PATTERNS['^[A-Za-z0-9][A-Za-z0-9_-]{0,63}(?=\\n?\\Z)'].search(data__cameras_item__id):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".cameras[{data__cameras_x}].id".format(**locals()) + " must match pattern ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}(?=\\n?\\Z)")
        if "nodes" in data_keys:
            data_keys.remove("nodes")
            data__nodes = data["nodes"]
            if not isinstance(data__nodes, (list)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".nodes must be array")
            data__nodes_is_list = isinstance(data__nodes, (list))
            if data__nodes_is_list:
                data__nodes_len = len(data__nodes)
                if data__nodes_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".nodes must contain at least 1 items")
                for data__nodes_x, data__nodes_item in enumerate(data__nodes):
                    validate____defs_node(data__nodes_item, custom_formats, (name_prefix or "data") + ".nodes[{data__nodes_x}]".format(**locals()))
        if "edges" in data_keys:
            data_keys.remove("edges")
            data__edges = data["edges"]
            if not isinstance(data__edges, (list)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".edges must be array")
            data__edges_is_list = isinstance(data__edges, (list))
            if data__edges_is_list:
                data__edges_len = len(data__edges)
                for data__edges_x, data__edges_item in enumerate(data__edges):
                    validate____defs_edge(data__edges_item, custom_formats, (name_prefix or "data") + ".edges[{data__edges_x}]".format(**locals()))
        if "config" in data_keys:
            data_keys.remove("config")
            data__config = data["config"]
            if not isinstance(data__config, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".config must be object")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_edge(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_one_of_count1 = 0
    if data_one_of_count1 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['from']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
            data_one_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count1 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['src']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
            data_one_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count1 != 1:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be valid exactly by one definition")
    data_one_of_count2 = 0
    if data_one_of_count2 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['to']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
            data_one_of_count2 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count2 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['dst']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
            data_one_of_count2 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count2 != 1:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be valid exactly by one definition")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "from" in data_keys:
            data_keys.remove("from")
            data__from = data["from"]
            validate____defs_nodeid(data__from, custom_formats, (name_prefix or "data") + ".from")
        if "to" in data_keys:
            data_keys.remove("to")
            data__to = data["to"]
            validate____defs_nodeid(data__to, custom_formats, (name_prefix or "data") + ".to")
        if "src" in data_keys:
            data_keys.remove("src")
            data__src = data["src"]
            validate____defs_nodeid(data__src, custom_formats, (name_prefix or "data") + ".src")
        if "dst" in data_keys:
            data_keys.remove("dst")
            data__dst = data["dst"]
            validate____defs_nodeid(data__dst, custom_formats, (name_prefix or "data") + ".dst")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_nodeid(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be string")
    if isinstance(data, str):
        data_len = len(data)
        if data_len < 1:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be longer than or equal to 1 characters")
    return data

def validate____defs_node(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['id', 'kind', 'plugin']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "id" in data_keys:
            data_keys.remove("id")
            data__id = data["id"]
            validate____defs_nodeid(data__id, custom_formats, (name_prefix or "data") + ".id")
        if "kind" in data_keys:
            data_keys.remove("kind")
            data__kind = data["kind"]
            if not (isinstance(data__kind, str) and data__kind == 'source' or isinstance(data__kind, str) and data__kind == 'node' or isinstance(data__kind, str) and data__kind == 'sink'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".kind must be one of ['source', 'node', 'sink']")
        if "plugin" in data_keys:
            data_keys.remove("plugin")
            data__plugin = data["plugin"]
            if not isinstance(data__plugin, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".plugin must be string")
            if isinstance(data__plugin, str):
                data__plugin_len = len(data__plugin)
                if data__plugin_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".plugin must be longer than or equal to 1 characters")
        if "config" in data_keys:
            data_keys.remove("config")
            data__config = data["config"]
            if not isinstance(data__config, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".config must be object")
        if "each_camera" in data_keys:
            data_keys.remove("each_camera")
            data__eachcamera = data["each_camera"]
            if not isinstance(data__eachcamera, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".each_camera must be boolean")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
