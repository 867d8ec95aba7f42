#!/usr/bin/python3
"""Counts the pixels of given colours in a screenshot (the status page's browser test).

usage: screenshot_colours.py IMAGE NAME=#RRGGBB [NAME=#RRGGBB ...]
prints one JSON object: the image's size, how many pixels are not the page's background
(#fafafa) nor white, and per NAME the pixels within 3 of that colour on every channel.
Runs with Debian's python3-pil (/usr/bin/python3).
"""
import json
import sys

from PIL import Image

TOLERANCE = 3
BACKGROUNDS = {(0xFA, 0xFA, 0xFA), (0xFF, 0xFF, 0xFF)}


def parse(spec):
    name, _, colour = spec.partition("=")
    colour = colour.lstrip("#")
    if not name or len(colour) != 6:
        sys.exit(f"screenshot_colours.py: expected NAME=#RRGGBB, got {spec!r}")
    return name, tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    wanted = dict(parse(spec) for spec in sys.argv[2:])
    image = Image.open(sys.argv[1]).convert("RGB")
    counts = {name: 0 for name in wanted}
    other = 0
    # getcolors gives each distinct colour once with its count: fast on a 1280x2000 page.
    for count, pixel in image.getcolors(maxcolors=image.width * image.height):
        if pixel not in BACKGROUNDS:
            other += count
        for name, colour in wanted.items():
            if all(abs(a - b) <= TOLERANCE for a, b in zip(pixel, colour)):
                counts[name] += count
    print(json.dumps({"width": image.width, "height": image.height, "not_background": other,
                      "colours": counts}))


if __name__ == "__main__":
    main()
