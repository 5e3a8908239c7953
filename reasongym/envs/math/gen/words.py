"""Procedural multi-step word problems in the spirit of GSM8K, with worked solutions.

Each template is a small story with names and objects drawn at random, 2 to 4 arithmetic steps, an
integer answer and divisions that come out exact. Difficulty picks which templates are allowed (more
steps, percentages and fractions from 3 up) and how large the numbers are. The split key is the
template and its numbers, not the names: "Mia buys 3 packs" and "Leo buys 3 packs" are one problem.

    word_problem(np.random.default_rng(0), difficulty=2).question
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reasongym.core import Task
from reasongym.envs.math.gen import check_difficulty, choice, make_task, randint

# (name, subject pronoun, possessive)
PEOPLE = [("Mia", "she", "her"), ("Leo", "he", "his"), ("Ava", "she", "her"), ("Sam", "he", "his"),
          ("Zoe", "she", "her"), ("Omar", "he", "his"), ("Lena", "she", "her"), ("Ravi", "he", "his"),
          ("Nora", "she", "her"), ("Ben", "he", "his"), ("Iris", "she", "her"), ("Tom", "he", "his")]
PACKED = ["pencils", "stickers", "cards", "markers", "balloons", "erasers"]
BAKED = ["cookies", "muffins", "cupcakes", "rolls", "bagels"]
PLANTS = ["tomato plants", "sunflowers", "carrots", "lettuces", "peppers"]


@dataclass
class Story:
    question: str
    answer: int
    steps: list[str]
    numbers: tuple[int, ...]  # what the split key is made of (with the template name)


def plural(n: int, word: str) -> str:
    """`1 hour`, `3 hours`."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _scale(d: int) -> int:
    """How much larger numbers get with difficulty: 1, 2, 4, 8, 15."""
    return (1, 2, 4, 8, 15)[d - 1]


def packs_left(rng: np.random.Generator, d: int) -> Story:
    (name, she, _), item = choice(rng, PEOPLE), choice(rng, PACKED)
    p, n = randint(rng, 2, 3 + 2 * d), randint(rng, 4, 6 + 4 * d)
    g = randint(rng, 1, p * n - 1)
    q = (f"{name} buys {p} packs of {item}. Each pack has {n} {item}. {she.capitalize()} gives away {g} "
         f"{item}. How many {item} does {name} have left?")
    steps = [f"{name} buys {p} × {n} = {p * n} {item}.", f"After giving away {g}, {she} has {p * n} - {g} = "
             f"{p * n - g} {item} left."]
    return Story(q, p * n - g, steps, (p, n, g))


def wages(rng: np.random.Generator, d: int) -> Story:
    name, she, _ = choice(rng, PEOPLE)
    r, h1, h2 = randint(rng, 5, 10 + 5 * d), randint(rng, 1, 3 + d), randint(rng, 1, 3 + d)
    q = (f"{name} earns ${r} per hour. {she.capitalize()} works {plural(h1, 'hour')} on Monday and "
         f"{plural(h2, 'hour')} on Tuesday. How many dollars does {she} earn in total?")
    steps = [f"{name} works {h1} + {h2} = {h1 + h2} hours.", f"{she.capitalize()} earns {h1 + h2} × {r} = "
             f"{(h1 + h2) * r} dollars."]
    return Story(q, (h1 + h2) * r, steps, (r, *sorted((h1, h2))))


def boxes_bought(rng: np.random.Generator, d: int) -> Story:
    name, _, _ = choice(rng, PEOPLE)
    food = choice(rng, BAKED)
    b, per = randint(rng, 2, 4 + 2 * d), randint(rng, 3, 6 + 3 * d)
    k = randint(rng, 1, b)
    q = (f"A baker makes {b * per} {food} and puts them equally into {b} boxes. {name} buys {k} of the "
         f"boxes. How many {food} does {name} buy?")
    steps = [f"Each box has {b * per} ÷ {b} = {per} {food}.", f"{name} buys {k} × {per} = {k * per} {food}."]
    return Story(q, k * per, steps, (b, per, k))


def ages(rng: np.random.Generator, d: int) -> Story:
    (n1, _, _), (n2, _, _) = choice(rng, PEOPLE[:6]), choice(rng, PEOPLE[6:])
    k, y, t = randint(rng, 2, 3 + (d > 2)), randint(rng, 2, 8 + d), randint(rng, 1, 5 * d)
    q = f"{n1} is {k} times as old as {n2}. {n2} is {y} years old. How old will {n1} be in {plural(t, 'year')}?"
    steps = [f"{n1} is {k} × {y} = {k * y} years old now.", f"In {plural(t, 'year')} {n1} will be {k * y} + {t} = "
             f"{k * y + t}."]
    return Story(q, k * y + t, steps, (k, y, t))


def savings(rng: np.random.Generator, d: int) -> Story:
    name, she, _ = choice(rng, PEOPLE)
    w, weeks, have = randint(rng, 3, 5 + 5 * d), randint(rng, 2, 4 + 2 * d), randint(rng, 1, 10 * d)
    price = have + w * weeks
    q = (f"{name} wants a bike that costs ${price}. {she.capitalize()} already has ${have} and saves ${w} "
         f"each week. How many weeks must {she} save to buy the bike?")
    steps = [f"{name} still needs {price} - {have} = {price - have} dollars.",
             f"At {w} dollars a week that takes {price - have} ÷ {w} = {weeks} weeks."]
    return Story(q, weeks, steps, (price, have, w))


def change(rng: np.random.Generator, d: int) -> Story:
    name, she, _ = choice(rng, PEOPLE)
    a, p, pen = randint(rng, 2, 3 + d), randint(rng, 2, 3 * d + 2), randint(rng, 1, 2 * d + 2)
    cost = a * p + pen
    bill = next(b for b in (10, 20, 50, 100, 200, 500) if b > cost)
    q = (f"{name} buys {a} notebooks for ${p} each and a pen for ${pen}. {she.capitalize()} pays with a "
         f"${bill} bill. How many dollars of change does {she} get?")
    steps = [f"The notebooks cost {a} × {p} = {a * p} dollars.", f"With the pen that is {a * p} + {pen} = "
             f"{cost} dollars.", f"The change is {bill} - {cost} = {bill - cost} dollars."]
    return Story(q, bill - cost, steps, (a, p, pen, bill))


def distance(rng: np.random.Generator, d: int) -> Story:
    v1, v2 = 5 * randint(rng, 4, 8 + 2 * d), 5 * randint(rng, 4, 8 + 2 * d)
    t1, t2 = randint(rng, 1, 2 + d), randint(rng, 1, 2 + d)
    q = (f"A train travels at {v1} km per hour for {plural(t1, 'hour')}, then at {v2} km per hour "
         f"for {plural(t2, 'hour')}. "
         f"How many kilometers does it travel in total?")
    steps = [f"First part: {v1} × {t1} = {v1 * t1} km.", f"Second part: {v2} × {t2} = {v2 * t2} km.",
             f"In total: {v1 * t1} + {v2 * t2} = {v1 * t1 + v2 * t2} km."]
    return Story(q, v1 * t1 + v2 * t2, steps, (v1, t1, v2, t2))


def garden(rng: np.random.Generator, d: int) -> Story:
    name, she, _ = choice(rng, PEOPLE)
    plant = choice(rng, PLANTS)
    r, c = randint(rng, 2, 3 + 2 * d), randint(rng, 3, 4 + 3 * d)
    e, more = randint(rng, 1, r * c - 1), randint(rng, 1, 5 * d)
    q = (f"{name} plants {r} rows of {plant} with {c} in each row. Rabbits eat {e} of them, and then {she} "
         f"plants {more} more. How many {plant} does {name} have now?")
    steps = [f"{name} plants {r} × {c} = {r * c} {plant}.", f"After the rabbits: {r * c} - {e} = {r * c - e}.",
             f"After planting more: {r * c - e} + {more} = {r * c - e + more}."]
    return Story(q, r * c - e + more, steps, (r, c, e, more))


def give_fraction(rng: np.random.Generator, d: int) -> Story:
    name, she, her = choice(rng, PEOPLE)
    k = randint(rng, 2, 5)
    n = k * randint(rng, 2, 4 * _scale(d))
    g = randint(rng, 1, n - n // k - 1)
    q = (f"{name} has {n} marbles. {she.capitalize()} gives 1/{k} of them to {her} sister and {g} to a "
         f"friend. How many marbles does {name} have left?")
    steps = [f"1/{k} of {n} is {n} ÷ {k} = {n // k} marbles.", f"{name} gives away {n // k} + {g} = "
             f"{n // k + g} marbles.", f"{name} has {n} - {n // k + g} = {n - n // k - g} left."]
    return Story(q, n - n // k - g, steps, (n, k, g))


def discount(rng: np.random.Generator, d: int) -> Story:
    name, she, _ = choice(rng, PEOPLE)
    pct = choice(rng, [10, 20, 25, 50, 30, 40])
    price = {10: 10, 20: 5, 25: 4, 50: 2, 30: 10, 40: 5}[pct] * randint(rng, 2, 4 * _scale(d))
    m = randint(rng, 2, 2 + d)
    off = price * pct // 100
    q = (f"A jacket costs ${price}. It is on sale for {pct}% off. {name} buys {m} jackets on sale. "
         f"How many dollars does {she} pay?")
    steps = [f"The discount is {pct}% of {price} = {price} × {pct} ÷ 100 = {off} dollars.",
             f"One jacket costs {price} - {off} = {price - off} dollars.",
             f"{m} jackets cost {m} × {price - off} = {m * (price - off)} dollars."]
    return Story(q, m * (price - off), steps, (price, pct, m))


def teams(rng: np.random.Generator, d: int) -> Story:
    c, t, balls = randint(rng, 2, 3 + d), randint(rng, 2, 6), randint(rng, 2, 3 + d)
    s = t * randint(rng, 3, 4 + d)
    q = (f"A school has {c} classes with {s} students each. All the students are split into teams of {t}. "
         f"Each team needs {balls} balls. How many balls are needed?")
    steps = [f"There are {c} × {s} = {c * s} students.", f"That makes {c * s} ÷ {t} = {c * s // t} teams.",
             f"They need {c * s // t} × {balls} = {c * s // t * balls} balls."]
    return Story(q, c * s // t * balls, steps, (c, s, t, balls))


def fruit_change(rng: np.random.Generator, d: int) -> Story:
    name, she, _ = choice(rng, PEOPLE)
    a, pa, b, pb = randint(rng, 2, 2 + d), randint(rng, 2, 2 + d), randint(rng, 1, 2 + d), randint(rng, 2, 3 + d)
    if (a * pa + b * pb) % 2:  # make the change even so half of it is whole: add 1 kg of an odd-priced fruit
        b, a = (b + 1, a) if pb % 2 else (b, a + 1)
    cost = a * pa + b * pb
    bill = next(x for x in (20, 50, 100, 200, 500) if x > cost)
    q = (f"{name} buys {a} kg of apples at ${pa} per kg and {b} kg of pears at ${pb} per kg. {she.capitalize()} "
         f"pays with ${bill} and spends half of the change on juice. How many dollars of the change are left?")
    steps = [f"Apples: {a} × {pa} = {a * pa} dollars.", f"Pears: {b} × {pb} = {b * pb} dollars.",
             f"Change: {bill} - ({a * pa} + {b * pb}) = {bill} - {cost} = {bill - cost} dollars.",
             f"Half of it is left: {bill - cost} ÷ 2 = {(bill - cost) // 2} dollars."]
    return Story(q, (bill - cost) // 2, steps, (a, pa, b, pb, bill))


# template -> lowest difficulty it appears at
TEMPLATES: dict[Callable[[np.random.Generator, int], Story], int] = {
    packs_left: 1, wages: 1, boxes_bought: 1, ages: 1, savings: 1,
    change: 2, distance: 2, garden: 2,
    give_fraction: 3, teams: 3,
    discount: 4, fruit_change: 4,
}


def word_problem(rng: np.random.Generator, difficulty: int) -> Task:
    """A GSM8K-style story problem with an integer answer."""
    d = check_difficulty(difficulty)
    pool = [t for t, lowest in TEMPLATES.items() if lowest <= d]
    template = choice(rng, pool)
    story = template(rng, d)
    key = f"{template.__name__}:{','.join(map(str, story.numbers))}"
    return make_task("word", d, story.question, str(story.answer), story.steps, key, form="number")
