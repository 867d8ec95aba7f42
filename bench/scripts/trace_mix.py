#!/usr/bin/env python3
"""Writes an azure2019-format trace: the given per-minute trace plus two synthetic functions,
one periodic (one call every 10 minutes) and one bursty (60 calls over 3 minutes every
3 hours), for comparing keep-alive policies with `ember bench trace`.

usage: bench/scripts/trace_mix.py IN.csv OUT.csv
"""

import csv
import sys


def main():
    source, target = sys.argv[1], sys.argv[2]
    with open(source, newline="") as f:
        rows = list(csv.reader(f))
    header, minutes = rows[0], len(rows[0]) - 3
    periodic = ["synthetic-periodic"] * 3 + [
        "1" if m % 10 == 0 else "0" for m in range(minutes)]
    bursty = ["synthetic-bursty"] * 3 + [
        "20" if m % 180 in (60, 61, 62) else "0" for m in range(minutes)]
    with open(target, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows[1:])
        out.writerow(periodic)
        out.writerow(bursty)
    return 0


if __name__ == "__main__":
    sys.exit(main())
