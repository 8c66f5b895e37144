"""Read a valgrind memcheck log; print every error record whose stack has a
spikegrad frame and exit 1 if there is one. Other unsuppressed records
(third-party code) are counted and summarized, not fatal.

Usage: python memcheck_filter.py LOG [LOG ...]
"""

import re
import sys
from collections import Counter

# Frames of our code: the extension module, Rust symbols, the cargo test binary.
OURS = re.compile(
    r"spikegrad/_native[^/)\s]*\.so|spikegrad::|\bspikegrad_(heaviside|surrogate_grad)\b|/deps/spikegrad-[0-9a-f]+"
)
ERROR_START = re.compile(
    r"^(Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free"
    r"|Source and destination overlap|Argument '|Process terminating|\d+ bytes in \d+ blocks are definitely lost)"
)
LINE = re.compile(r"^==\d+== ?(.*)$")


def records(path):
    current = None
    with open(path, errors="replace") as fh:
        for raw in fh:
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            body = m.group(1)
            if not body.strip():
                if current:
                    yield current
                current = None
            elif current is None and ERROR_START.match(body):
                current = [body]
            elif current is not None:
                current.append(body)
    if current:
        yield current


def main(paths):
    ours, others = [], Counter()
    for path in paths:
        for rec in records(path):
            if any(OURS.search(line) for line in rec):
                ours.append((path, rec))
            else:
                others[rec[0].split("(")[0].strip()] += 1
    for path, rec in ours:
        print(f"--- error in spikegrad code ({path}):")
        print("\n".join(rec))
    if others:
        print(f"unsuppressed third-party records (not ours, see the logs): {dict(others)}")
    print(f"memcheck: {len(ours)} error(s) in spikegrad frames")
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
