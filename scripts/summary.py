#!/usr/bin/python3
"""Print one closing line over all test runners: 'total: N passed, M failed'."""
import json, os, sys
import xml.etree.ElementTree as ET

build = sys.argv[1]
fuzz = sys.argv[2] if len(sys.argv) > 2 else ""
passed = failed = skipped = 0
try:
    with open(os.path.join(build, "meson-logs", "testlog.json")) as f:
        for line in f:
            r = json.loads(line)
            if r.get("result") in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r.get("result") == "SKIP":
                skipped += 1
            else:
                failed += 1
except FileNotFoundError:
    failed += 1
try:
    root = ET.parse(os.path.join(build, "pytest.xml")).getroot()
    for s in root.iter("testsuite"):
        t, f, e, sk = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
        passed += t - f - e - sk
        failed += f + e
        skipped += sk
except (FileNotFoundError, ET.ParseError):
    failed += 1
if fuzz and os.path.exists(fuzz):
    for line in open(fuzz):
        if line.startswith("ok "):
            passed += 1
        elif line.strip():
            failed += 1
print(f"total: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
