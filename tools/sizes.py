#!/usr/bin/env python3
"""Checks the size rule of src/: no file over FILE_MAX lines, no function
over FUNC_MAX lines (from the "{" that opens it in column 0 to its "}").
`make lint` runs this.  Usage: tools/sizes.py [SRC_DIR]"""
import os
import sys

FILE_MAX = 800
FUNC_MAX = 80


def check(src):
    bad = []
    for dp, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dp, name)
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            if len(lines) - 1 > FILE_MAX:
                bad.append(f"{path}: {len(lines) - 1} lines (at most {FILE_MAX})")
            start = None
            for i, line in enumerate(lines):
                if line == "{":
                    start = i
                elif line.startswith("}") and start is not None:
                    n = i - start + 1
                    if n > FUNC_MAX and "(" in lines[start - 1] + lines[start - 2]:
                        head = lines[start - 1].strip()
                        bad.append(f"{path}:{start}: function of {n} lines "
                                   f"(at most {FUNC_MAX}): {head}")
                    start = None
    return bad


def main():
    bad = check(sys.argv[1] if len(sys.argv) > 1 else "src")
    for b in bad:
        print(b)
    if bad:
        print(f"sizes: {len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
