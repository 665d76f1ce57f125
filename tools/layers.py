#!/usr/bin/env python3
"""Checks the layering of src/: a file may include headers of its own folder
and of the folders below it, never of a folder above it or beside it.
The order is docs/design/architecture.md's; `make lint` runs this.
Usage: tools/layers.py [SRC_DIR]   exit 0 clean, 1 with one line per violation."""
import os
import re
import sys

# Lowest first.  Folders on the same rank are siblings and may not include
# each other.
RANKS = [["base"], ["record"], ["config"], ["exec"], ["tree"], ["store"],
         ["actor", "judge"], ["dispatch"], ["engine"], ["report"], ["cli"]]
RANK = {d: i for i, row in enumerate(RANKS) for d in row}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def check(src):
    bad = []
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder)
        if not os.path.isdir(path):
            if folder.endswith((".c", ".h")):
                bad.append(f"{src}/{folder}: outside any subsystem folder")
            continue
        if folder not in RANK:
            bad.append(f"{src}/{folder}/: folder not in tools/layers.py RANKS")
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith((".c", ".h")):
                continue
            with open(os.path.join(path, name), encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    if "/" not in inc:
                        bad.append(f"{src}/{folder}/{name}:{lineno}: "
                                   f'include "{inc}" without its folder')
                        continue
                    to = inc.split("/", 1)[0]
                    if to == folder:
                        continue
                    if to not in RANK:
                        bad.append(f"{src}/{folder}/{name}:{lineno}: "
                                   f'include "{inc}": unknown folder')
                    elif RANK[to] >= RANK[folder]:
                        where = "beside" if RANK[to] == RANK[folder] else "above"
                        bad.append(f"{src}/{folder}/{name}:{lineno}: "
                                   f'{folder}/ includes "{inc}", a folder {where} it')
    return bad


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    bad = check(src)
    for b in bad:
        print(b)
    if bad:
        print(f"layers: {len(bad)} violation(s); the order is in tools/layers.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
