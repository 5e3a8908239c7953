"""Date, calendar and unit tasks: add days to a date, count days between dates, name a weekday, convert units.

Calendar arithmetic needs month lengths and leap years held exactly, and unit conversions need the factor
and the decimal point in the right place: places where a fluent model guesses. Dates are written ISO
(`2024-03-05`) in questions and answers; weekdays by name. Conversions are chosen so every answer is an
exact decimal. Worked solutions go month by month (dates), count from an anchor day (weekdays) or multiply
by the factor (units); `tool_code` uses `datetime` or one multiplication.

    add_days(np.random.default_rng(0), 2)      # 'What date is 23 days after 2021-05-17? ...'
    convert_units(np.random.default_rng(0), 3)  # 'Convert 2.5 km to cm.'

difficulty: dates 1 within a month, 2 across months, 3 across a year, 4 hundreds of days with leap years,
5 up to 3000 days (back and forth); weekdays 1-2 with an anchor in the same month, 3-4 in the same year,
5 none; units 1 whole numbers, 2 decimals, 3 two factors, 4 hours and minutes or inches, 5 divisions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from reasongym.core import Task
from reasongym.envs.jagged.common import check_difficulty, choice, make_task, randint

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ANCHOR = dt.date(2000, 1, 1)  # a Saturday
SPANS = {1: (1, 12), 2: (10, 60), 3: (40, 250), 4: (200, 900), 5: (300, 3000)}
# (from, to, factor, difficulty it starts at): to = from * factor
UNITS = (("km", "m", 1000), ("m", "cm", 100), ("kg", "g", 1000), ("L", "mL", 1000), ("h", "min", 60),
         ("min", "s", 60), ("ft", "in", 12), ("yd", "ft", 3), ("day", "h", 24), ("week", "day", 7))
CHAINS = (("km", "cm", 100000, "1 km = 1000 m and 1 m = 100 cm"), ("h", "s", 3600, "1 h = 60 min and 1 min = 60 s"),
          ("day", "min", 1440, "1 day = 24 h and 1 h = 60 min"), ("yd", "in", 36, "1 yd = 3 ft and 1 ft = 12 in"))


def random_date(rng: np.random.Generator, difficulty: int) -> dt.date:
    low, high = (2015, 2030) if difficulty <= 3 else (1990, 2060)
    return dt.date(randint(rng, low, high), 1, 1) + dt.timedelta(days=randint(rng, 0, 364))


def month_walk(start: dt.date, end: dt.date) -> list[str]:
    """Steps from start to end, one month end at a time (how a person counts days across months)."""
    steps, cur = [], start
    while (cur.year, cur.month) != (end.year, end.month):
        nxt = (cur.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        steps.append(f"{cur.isoformat()} to {nxt.isoformat()}: {(nxt - cur).days} days")
        cur = nxt
    steps.append(f"{cur.isoformat()} to {end.isoformat()}: {(end - cur).days} days")
    return steps


def add_days(rng: np.random.Generator, difficulty: int) -> Task:
    d = check_difficulty(difficulty)
    start, n = random_date(rng, d), randint(rng, *SPANS[d])
    if d == 1:
        start, n = start.replace(day=randint(rng, 1, 14)), randint(rng, 1, 12)
    back = d == 5 and rng.random() < 0.5
    end = start - dt.timedelta(days=n) if back else start + dt.timedelta(days=n)
    word = "before" if back else "after"
    walk = month_walk(end, start) if back else month_walk(start, end)
    steps = ["Count month by month:", *walk, f"In all {n} days, so the date is {end.isoformat()}."]
    question = f"What date is {n} days {word} {start.isoformat()}? Answer in the form YYYY-MM-DD."
    sign = "-" if back else "+"
    code = f"import datetime as dt\nprint(dt.date.fromisoformat('{start}') {sign} dt.timedelta(days={n}))"
    return make_task("add_days", d, question, end.isoformat(), steps, f"{start}{sign}{n}", answer_type="date",
                     tool_code=code)


def days_between(rng: np.random.Generator, difficulty: int) -> Task:
    d = check_difficulty(difficulty)
    start = random_date(rng, d)
    end = start + dt.timedelta(days=randint(rng, *SPANS[d]))
    n = (end - start).days
    steps = ["Count month by month:", *month_walk(start, end), f"Adding these up gives {n} days."]
    question = f"How many days are there from {start.isoformat()} to {end.isoformat()}?"
    code = f"import datetime as dt\nprint((dt.date.fromisoformat('{end}') - dt.date.fromisoformat('{start}')).days)"
    return make_task("days_between", d, question, str(n), steps, f"{start}:{end}", answer_type="int",
                     tool_code=code)


def weekday(rng: np.random.Generator, difficulty: int) -> Task:
    d = check_difficulty(difficulty)
    day = random_date(rng, d)
    if d <= 2:
        anchor = day.replace(day=1)
    elif d <= 4:
        anchor = dt.date(day.year, 1, 1)
    else:
        anchor = ANCHOR
    gap = (day - anchor).days
    name, anchor_name = WEEKDAYS[day.weekday()], WEEKDAYS[anchor.weekday()]
    hint = "" if d == 5 else f"{anchor.isoformat()} was a {anchor_name}. "
    steps = [f"{anchor.isoformat()} was a {anchor_name}.", f"From {anchor.isoformat()} to {day.isoformat()} is "
             f"{gap} days; {gap} = 7 × {gap // 7} + {gap % 7}.",
             f"{gap % 7} weekday{'s' if gap % 7 != 1 else ''} after {anchor_name} is {name}."]
    question = f"{hint}What day of the week was {day.isoformat()}?"
    code = f"import datetime as dt\nprint(dt.date.fromisoformat('{day}').strftime('%A'))"
    return make_task("weekday", d, question, name, steps, f"{day}:{d == 5}", answer_type="weekday",
                     tool_code=code)


def _amount(rng: np.random.Generator, decimals: bool) -> Decimal:
    return Decimal(randint(rng, 2, 95)) / (Decimal(10) if decimals and rng.random() < 0.8 else 1)


def convert_units(rng: np.random.Generator, difficulty: int) -> Task:
    d = check_difficulty(difficulty)
    x = _amount(rng, d >= 2)
    if d == 3:
        src, dst, factor, why = choice(rng, CHAINS)
    elif d == 4 and rng.random() < 0.5:
        h, m = randint(rng, 1, 9), randint(rng, 1, 59)
        total = h * 60 + m
        return make_task("convert_units", d, f"How many minutes are {h} h {m} min?", str(total),
                         [f"{h} h = {h} × 60 = {h * 60} min.", f"{h * 60} + {m} = {total} min."], f"{h}h{m}",
                         answer_type="decimal", tool_code=f"print({h} * 60 + {m})", unit="min")
    elif d == 4:
        src, dst, factor, why = "in", "cm", Decimal("2.54"), "1 in = 2.54 cm"
    else:
        src, dst, factor = choice(rng, UNITS)
        why = f"1 {src} = {factor} {dst}"
    if d == 5:  # the other way round: divide
        y = x * factor
        steps = [f"{why}, so divide by {factor}.", f"{_plain(y)} ÷ {factor} = {_plain(x)}."]
        return make_task("convert_units", d, f"Convert {_plain(y)} {dst} to {src}.", _plain(x), steps,
                         f"{y}{dst}>{src}", answer_type="decimal", unit=src,
                         tool_code=_decimal_code(_plain(y), "/", factor))
    y = _plain(x * Decimal(factor))
    steps = [f"{why}, so multiply by {factor}.", f"{_plain(x)} × {factor} = {y}."]
    return make_task("convert_units", d, f"Convert {_plain(x)} {src} to {dst}.", y, steps, f"{x}{src}>{dst}",
                     answer_type="decimal", tool_code=_decimal_code(_plain(x), "*", factor), unit=dst)


def _plain(x: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 2500, 2.5, 0.025."""
    s = f"{x:f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def _decimal_code(a: str, op: str, b: object) -> str:
    """Exact decimal arithmetic in the tool cell (a float would print 0.30000000000000004)."""
    return f"from decimal import Decimal\nprint(Decimal('{a}') {op} Decimal('{b}'))"
