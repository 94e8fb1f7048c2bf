#!/usr/bin/python3
"""Adds up meson's JSON test logs into one closing line:
"N passed, N failed, N skipped"."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as log:
            for line in log:
                if not line.strip():
                    continue
                result = json.loads(line).get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        print(f"missing test log: {path}", file=sys.stderr)
        failed += 1

print(f"{passed} passed, {failed} failed, {skipped} skipped")
