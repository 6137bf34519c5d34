#!/usr/bin/env python3
"""The layout rules of src/ (README "Layout"), checked; TAP on stdout.

Each folder is one side of the sandbox. What a folder may include says which
side its code runs on: inside/ runs in the zygote and the job init (no libuv,
no cJSON, no daemon log), core/ is data and formats (no I/O), and nothing
below the daemon and the CLI reaches up into them. Files stay under 600
lines; one that must stay over for a while is named in OVER with the
length it may not pass, and leaves the list when it is split.
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
FOLDERS = ["core", "policy", "proto", "manager", "inside", "daemon", "cli"]

# Project folders each folder may include headers from.
MAY_INCLUDE = {
    "core": {"core"},
    "policy": {"core", "policy"},
    # The job spec carries the policy's compiled filter.
    "proto": {"core", "policy", "proto"},
    # The job ids userns.h fixes run inside, from a manager header that
    # pulls in nothing else.
    "inside": {"core", "policy", "proto", "inside", "manager"},
    "manager": {"core", "policy", "proto", "inside", "manager"},
    "daemon": {"core", "policy", "proto", "manager", "daemon"},
    "cli": set(FOLDERS),
}
# System headers a folder's code may not include, directly or through the
# project headers it includes.
BANNED_SYSTEM = {
    "core": re.compile(r"^(uv\.h|unistd\.h|fcntl\.h|dirent\.h|poll\.h|sys/(?!types\.h).*)$"),
    "inside": re.compile(r"^(uv\.h|cJSON\.h)$"),
    "proto": re.compile(r"^(uv\.h|cJSON\.h)$"),
}
# Project headers a folder may not include (beyond MAY_INCLUDE).
BANNED_PROJECT = {"inside": {"daemon/log.h"}}
# Calls that do I/O, refused in core/.
IO_CALL = re.compile(r"\b(open|openat|read|write|close|pread|pwrite|fopen|fread|fwrite|fprintf|printf|"
                     r"puts|fputs|ioctl|mmap|socket|send|recv|sendmsg|recvmsg|stat|fstat)\s*\(")

MAX_LINES = 600
# Over MAX_LINES for now: the ceiling each may not pass until it is split
# (none since the splits of 2026-12-04).
OVER = {
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)

count = 0
failed = 0


def check(ok, what, why=""):
    global count, failed
    count += 1
    if not ok:
        failed += 1
    print(f"{'ok' if ok else 'not ok'} {count} - {what}")
    if not ok and why:
        for line in why.splitlines():
            print(f"#   {line}")


def includes(rel):
    with open(os.path.join(SRC, rel)) as f:
        text = f.read()
    return [(kind, name) for kind, name in INCLUDE.findall(text)]


def closure(rel):
    """Every header rel includes, directly or through project headers."""
    seen_proj, seen_sys, todo = set(), set(), [rel]
    while todo:
        for kind, name in includes(todo.pop()):
            if kind == "<":
                seen_sys.add(name)
            elif name not in seen_proj and os.path.exists(os.path.join(SRC, name)):
                seen_proj.add(name)
                todo.append(name)
            elif kind == '"' and not os.path.exists(os.path.join(SRC, name)):
                seen_proj.add("?" + name)
    return seen_proj, seen_sys


def main():
    files = []
    for root, _, names in os.walk(SRC):
        for n in names:
            rel = os.path.relpath(os.path.join(root, n), SRC)
            files.append(rel)
    files.sort()

    stray = [f for f in files if f.split(os.sep)[0] not in FOLDERS or os.sep not in f]
    check(not stray, "every file under src/ is in one of " + ", ".join(FOLDERS), "\n".join(stray))

    sources = [f for f in files if f.endswith((".c", ".h")) and f not in stray]
    for rel in sources:
        folder = rel.split(os.sep)[0]
        proj, system = closure(rel)
        bad = sorted(p for p in proj if p.startswith("?") or p.split("/")[0] not in MAY_INCLUDE[folder]
                     or p in BANNED_PROJECT.get(folder, set()))
        direct = {n for k, n in includes(rel) if k == '"'}
        bad += sorted(p for p in direct if "/" not in p)
        banned = BANNED_SYSTEM.get(folder)
        if banned:
            bad += sorted(s for s in system if banned.match(s))
        check(not bad, f"{rel}: includes only what {folder}/ may", "includes " + ", ".join(bad))

        if folder == "core" and rel.endswith(".c"):
            with open(os.path.join(SRC, rel)) as f:
                calls = sorted(set(m.group(1) for m in IO_CALL.finditer(f.read())))
            check(not calls, f"{rel}: no I/O", "calls " + ", ".join(calls))

        with open(os.path.join(SRC, rel)) as f:
            n = sum(1 for _ in f)
        if rel in OVER:
            check(MAX_LINES < n <= OVER[rel], f"{rel}: {n} lines, over {MAX_LINES} until split, "
                  f"at most {OVER[rel]}",
                  "shorter now: take it off the list" if n <= MAX_LINES else "grew past its ceiling")
        else:
            check(n <= MAX_LINES, f"{rel}: {n} lines, at most {MAX_LINES}")

    missing = sorted(set(OVER) - set(sources))
    check(not missing, "every file on the over-length list exists", "\n".join(missing))

    print(f"1..{count}")
    return 1 if failed or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
