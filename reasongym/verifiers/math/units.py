r"""Units an answer may carry: `15 \\text{ cm}^2`, `10 meters`, `60 km/h`, `18\\,\\mathrm{m/s}` are 15, 10, 60, 18.

Only known unit words are dropped, so an answer cannot hide a hedge or a second answer in a trailing
`\\text{}`: `4\\text{ else five}` stays as it is (and is then no number). Pure standard library.

    strip_units(r"4.5 \text{ hours}")   # '4.5'
"""

from __future__ import annotations

import re

UNITS = (r"cm|mm|km|m|meters?|metres?|centimeters?|kilometers?|inch(?:es)?|in|ft|feet|foot|yards?|yd|miles?|mi|"
         r"kg|g|grams?|kilograms?|lbs?|pounds?|oz|ounces?|s|sec|seconds?|min|minutes?|h|hr|hours?|days?|weeks?|"
         r"months?|years?|dollars?|cents?|units?|sq|square|cubic|rad|radians?|mph|kph|L|ml|mL|liters?|litres?|yuan|"
         r"euros?|people|students|persons?|cups?|pieces?|marbles|apples|books|ways|times|points|games|numbers?|"
         r"degrees?|percent|m/s|km/h|hrs|mins|secs|kilograms?|meters? per second|miles per hour|sq ft|sq m|"
         r"cm\^2|m\^2|cm\^3|m\^3|inches|gallons?|quarts?|pints?|tons?|calories|dozen|boxes|bags|cookies|cars|dogs|"
         r"cats|birds|eggs|pages|hours? per week|visitors|tickets|trees|stamps|cards|pencils|pens|balls|bottles")
UNIT_RUN = rf"(?:{UNITS})(?:\s*/\s*(?:{UNITS})|\s+(?:{UNITS}))*"
TRAILING_UNIT = re.compile(  # 5 cm^2, 60 km/h, 12 square units, 3 \text{ meters}; \text{} must hold units only
    rf"(?<=[\d}}.)])\s*(?:\\(?:text|textbf|textnormal|textrm|mbox|mathrm)\{{\s*{UNIT_RUN}\s*\}}|"
    rf"{UNIT_RUN}(?![A-Za-z]))(?:\^\{{?[23]\}}?)?$")


def strip_units(s: str) -> str:
    """`15 \\text{ cm}^2` -> `15`; `10 meters` -> `10`; `4\\text{ else five}` stays (not a unit)."""
    for _ in range(2):
        m = TRAILING_UNIT.search(s)
        if not m or m.start() == 0:
            break
        s = s[:m.start()].strip()
    return s
