#!/usr/bin/python3
"""An independent reading of JSON documents for spec/json_roundtrip_spec.lua.

Python's json module (not ctct's decoder) reads each document and prints a
typed skeleton of it, which the spec compares with the skeleton of what ctct
decoded. Documents travel hex-encoded, one per line, so any bytes can be sent.

  json_oracle.py examples SPEC.json   every example value of the official spec, hex JSON text per line
  json_oracle.py skeleton [--jit]     hex documents on stdin -> one skeleton (or INVALID) per line

Skeleton: A<n>[...] arrays, O<n>{K<hex key>:<value>;...} objects with keys in
UTF-8 byte order, S<hex> strings (UTF-8), I<digits> integers in int64, F<%.17g>
floats (and integers beyond int64, which ctct reads as floats), N null, T/B
true/false. With --jit every number is F (LuaJIT has one number type).
"""
import json
import sys

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


class Invalid(Exception):
    pass


def refuse_constant(name):
    raise Invalid(name)  # NaN, Infinity, -Infinity are not JSON


def number(x, jit):
    if isinstance(x, int) and not jit and INT64_MIN <= x <= INT64_MAX:
        return "I%d" % x
    f = float(x)
    if f != f or f in (float("inf"), float("-inf")):
        raise Invalid("number out of range")
    return "F%.17g" % f


def skeleton(v, jit):
    if v is None:
        return "N"
    if v is True:
        return "T"
    if v is False:
        return "B"
    if isinstance(v, (int, float)):
        return number(v, jit)
    if isinstance(v, str):
        return "S" + v.encode("utf-8").hex()  # a lone surrogate raises: ctct refuses those
    if isinstance(v, list):
        return "A%d[%s]" % (len(v), ",".join(skeleton(x, jit) for x in v))
    keys = sorted(v, key=lambda k: k.encode("utf-8"))
    return "O%d{%s}" % (len(v), "".join("K%s:%s;" % (k.encode("utf-8").hex(), skeleton(v[k], jit)) for k in keys))


def read(doc):
    text = doc.decode("utf-8")  # invalid UTF-8 raises
    return json.loads(text, parse_constant=refuse_constant)


def examples(path):
    with open(path, "rb") as f:
        spec = json.loads(f.read().decode("utf-8"))
    out = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("example", "x-example"):
                    out.append(v)
                elif k == "examples" and isinstance(v, dict):
                    out.extend(v.values())
                else:
                    walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(spec)
    for v in out:
        print(json.dumps(v).encode("utf-8").hex())


def skeletons(jit):
    for line in sys.stdin:
        try:
            print(skeleton(read(bytes.fromhex(line.strip())), jit))
        except (Invalid, ValueError, UnicodeError, RecursionError):
            print("INVALID")


if __name__ == "__main__":
    if sys.argv[1] == "examples":
        examples(sys.argv[2])
    else:
        skeletons("--jit" in sys.argv)
