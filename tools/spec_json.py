#!/usr/bin/env python3
"""tools/spec_json.py: the official spec (YAML, as the API serves it) as JSON, for
the generators (tools/gen_operations.lua, tools/gen_schemas.lua) and the contract
test (spec/support/contract/patch.lua).

    python3 tools/spec_json.py SPEC.yaml [OUT.json]     (OUT.json omitted: stdout)

Debian's python3-yaml (`make deps`), SafeLoader, with the file's text kept:
  * key order is the file's;
  * timestamps and dates stay the strings they are written as (YAML 1.1 would
    make `2023-01-23` a date);
  * a plain scalar that only YAML 1.1 reads as a boolean or a number (yes/no/on/off,
    0x1F, 017, 1_000, 1:30, .inf) is refused, not converted: the JSON would no
    longer say what the file says. None of the spec's versions has one.
Output: UTF-8 JSON, non-ASCII characters as they are, one line, then a newline.
"""
import json
import re
import sys

import yaml

STR = "tag:yaml.org,2002:str"
TIMESTAMP = "tag:yaml.org,2002:timestamp"

INT_TEXT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
FLOAT_TEXT = re.compile(r"[-+]?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][-+]?[0-9]+)?\Z")
BOOL_TEXT = ("true", "True", "TRUE", "false", "False", "FALSE")


class SpecLoader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver, refusing YAML 1.1 ambiguities."""


# Implicit resolvers are per first character; drop the timestamp one everywhere.
SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _refuse(node, what):
    raise yaml.constructor.ConstructorError(
        None, None, "%r is %s in YAML 1.1 only: refused, the JSON would differ from the text"
        % (node.value, what), node.start_mark)


def _timestamp(loader, node):  # an explicit !!timestamp keeps its text
    return loader.construct_scalar(node)


def _bool(loader, node):
    if node.style is None and node.value not in BOOL_TEXT:
        _refuse(node, "a boolean")
    return yaml.SafeLoader.construct_yaml_bool(loader, node)


def _int(loader, node):
    if node.style is None and not INT_TEXT.match(node.value):
        _refuse(node, "an integer")
    return yaml.SafeLoader.construct_yaml_int(loader, node)


def _float(loader, node):
    if node.style is None and not FLOAT_TEXT.match(node.value):
        _refuse(node, "a number")
    return yaml.SafeLoader.construct_yaml_float(loader, node)


def _mapping(loader, node):
    # SafeLoader honours YAML 1.1 merge keys (<<); a spec has no business with them.
    for key, _ in node.value:
        if key.tag == "tag:yaml.org,2002:merge":
            _refuse(key, "a merge key")
    return loader.construct_mapping(node)


def _mapping_gen(loader, node):
    data = {}
    yield data
    data.update(_mapping(loader, node))


SpecLoader.add_constructor(TIMESTAMP, _timestamp)
SpecLoader.add_constructor("tag:yaml.org,2002:bool", _bool)
SpecLoader.add_constructor("tag:yaml.org,2002:int", _int)
SpecLoader.add_constructor("tag:yaml.org,2002:float", _float)
SpecLoader.add_constructor("tag:yaml.org,2002:map", _mapping_gen)


def load(path):
    with open(path, "rb") as f:
        return yaml.load(f, Loader=SpecLoader)


def dumps(doc):
    # allow_nan=False: .nan/.inf cannot reach here (refused above), and JSON has none.
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write("usage: python3 tools/spec_json.py SPEC.yaml [OUT.json]\n")
        return 2
    try:
        text = dumps(load(argv[1]))
    except (OSError, yaml.YAMLError, ValueError) as e:
        sys.stderr.write("spec_json: %s: %s\n" % (argv[1], e))
        return 1
    if len(argv) == 3:
        with open(argv[2], "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.buffer.write(text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
