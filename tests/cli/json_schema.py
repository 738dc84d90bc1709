#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# Validate a pcpbuddy JSON output against docs/json-schema.json.
#   json_schema.py DEF FILE|-     DEF: run, compare, sweep, sweep_job, exec,
#                                 fidelity, calibrate
# Exit 0 when it validates; else 1, printing the first error and its path.
import json
import os
import sys

import jsonschema

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "..", "docs", "json-schema.json")) as f:
    schema = json.load(f)
kind, path = sys.argv[1], sys.argv[2]
doc = json.load(sys.stdin if path == "-" else open(path))
# Resolve "#/$defs/..." against the whole file.
target = dict(schema, **{"$ref": "#/$defs/" + kind})
try:
    jsonschema.validate(doc, target,
                        cls=jsonschema.Draft202012Validator)
except jsonschema.ValidationError as e:
    print("json_schema: %s: %s at %s" % (kind, e.message,
          "/".join(str(p) for p in e.absolute_path)), file=sys.stderr)
    sys.exit(1)
