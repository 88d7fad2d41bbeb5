#!/usr/bin/env python3
"""check.py SCHEMA EXPECTED.json < RESULT.json

Validates one agentsh --json result against the JSON Schema, then checks that
it contains everything in EXPECTED (a golden subset: objects match key by key,
every element of an expected array must match some element of the actual
array, {"$re": "..."} matches a string by regular expression, {"$absent": true}
requires the key to be missing).  Exit 0 on success, 1 with the differences."""
import json
import re
import sys

import jsonschema


def match(exp, act, path, errs):
    if isinstance(exp, dict) and "$re" in exp:
        if not isinstance(act, str) or not re.search(exp["$re"], act):
            errs.append(f"{path}: {act!r} does not match /{exp['$re']}/")
        return
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            errs.append(f"{path}: expected an object, got {act!r}")
            return
        for k, v in exp.items():
            if isinstance(v, dict) and v.get("$absent"):
                if k in act:
                    errs.append(f"{path}.{k}: must be absent, is {act[k]!r}")
                continue
            if k not in act:
                errs.append(f"{path}.{k}: missing")
                continue
            match(v, act[k], f"{path}.{k}", errs)
        return
    if isinstance(exp, list):
        if not isinstance(act, list):
            errs.append(f"{path}: expected an array, got {act!r}")
            return
        for i, e in enumerate(exp):
            if not any(not _errs(e, a) for a in act):
                errs.append(f"{path}[{i}]: no element matches {json.dumps(e)}")
        return
    if exp != act:
        errs.append(f"{path}: expected {exp!r}, got {act!r}")


def _errs(e, a):
    errs = []
    match(e, a, "", errs)
    return errs


def main():
    schema = json.load(open(sys.argv[1]))
    expected = json.load(open(sys.argv[2]))
    raw = sys.stdin.read()
    lines = [l for l in raw.split("\n") if l.strip()]
    if len(lines) != 1:
        print(f"stdout must be exactly one JSON object on one line, got {len(lines)} lines:\n{raw[:2000]}")
        return 1
    try:
        result = json.loads(lines[0])
    except ValueError as e:
        print(f"stdout is not JSON: {e}\n{raw[:2000]}")
        return 1
    errs = [f"schema: {e.message} at /{'/'.join(map(str, e.absolute_path))}"
            for e in jsonschema.Draft202012Validator(schema).iter_errors(result)]
    match(expected, result, "$", errs)
    if errs:
        print("\n".join(errs))
        print("result:", json.dumps(result, indent=1)[:4000])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
