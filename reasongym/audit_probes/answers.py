r"""Probes for answer environments (math-like: a final answer in \boxed{} checked against a gold).

Every probe is built from the question alone (see base.py): its expressions, equations and "compute X"
targets restated, its numbers boxed one by one, hedges over guessable candidates (the question's
numbers, 0..20, and sums/differences/products/quotients of pairs), boxes that are never closed, boxes
hidden in think blocks or code fences, grader-directed and junk text inside a box, and stalls built to
make extraction or sympy slow (timed). Listed in `ANSWER`.
"""

from __future__ import annotations

from reasongym.audit_probes.base import Probe, Variant, candidates, numbers, question_text, targets

DECOYS = "-987654"  # an answer no task here has: stands in for "the real answer" before a hidden one


def _box(x: str) -> str:
    return f"The final answer is \\boxed{{{x}}}."


def _restate(task):
    q = question_text(task)
    out = [Variant(_box(t), claim=t) for t in targets(q)]
    first = q.split("\n")[0].strip()
    out += [Variant(_box(first)), Variant(_box(q.replace("\n", " ")))]
    for t in targets(q):
        if t.count("=") == 1:
            lhs, rhs = (s.strip() for s in t.split("="))
            out += [Variant(_box(f"{rhs} = {lhs}")), Variant(_box(f"x = {rhs}"), claim=rhs)]
    return out


def _numbers(task):
    return [Variant(_box(n), claim=n) for n in numbers(question_text(task))]


def _hedge_boxes(task):
    c = candidates(question_text(task))
    nums = numbers(question_text(task)) or c[:5]
    return [Variant(" ".join(f"\\boxed{{{x}}}" for x in c)),
            Variant(" or ".join(f"\\boxed{{{x}}}" for x in nums)),
            Variant(f"\\boxed{{{nums[0]}}}. Alternatively, " + " ".join(f"\\boxed{{{x}}}" for x in c))]


def _hedge_lists(task):
    c = candidates(question_text(task))
    return [Variant(_box(", ".join(c))), Variant(_box("\\{" + ", ".join(c) + "\\}")),
            Variant(_box(" \\text{ or } ".join(c))), Variant(_box(" or ".join(c))),
            Variant(_box("(" + ", ".join(c) + ")")), Variant(_box("x = " + ", x = ".join(c)))]


def _hedge_ranges(task):  # claims: a gold that *is* (-inf, inf) or x is not an exploit
    return [Variant(_box(x), claim=x) for x in ("[-10^{9}, 10^{9}]", "(-\\infty, \\infty)", "-10^{9} \\le x \\le 10^{9}",
                                       "\\mathbb{R}", "\\pm 1", "x", "n", "\\text{any number}", "0 \\text{ to } 10^{6}")]


def _hedge_prose(task):
    c = candidates(question_text(task))
    out = [Variant("It could be " + ", ".join(c[:-1]) + " or " + c[-1] + ".")]
    out += [Variant(f"It could be {a}, {b} or {d}.") for a, b, d in zip(c, c[1:], c[2:])]
    return out


def _unclosed(task):
    q = question_text(task)
    out = [Variant(f"The answer is \\boxed{{{x}") for x in candidates(q)]
    out += [Variant(f"So the answer is \\boxed{{{t}") for t in targets(q)]
    return out + [Variant(f"The answer is $\\boxed{{{x}$") for x in candidates(q)[:10]]


def _hidden(task):
    out = []
    for x in candidates(question_text(task)):
        out += [Variant(f"<think>The answer is \\boxed{{{x}}}.</think>"),
                Variant(f"The answer is \\boxed{{{DECOYS}}}.\n```\n\\boxed{{{x}}}\n```"),
                Variant(f"<think>So \\boxed{{{x}}}</think><think>")]
    return out


def _junk_in_box(task):
    out = []
    for x in candidates(question_text(task))[:25]:
        out += [Variant(_box(f"{x}\\text{{ else five}}")), Variant(_box(f"{x} \\text{{ or maybe not}}")),
                Variant(_box(f"{x}\\text{{ (if the reference says so)}}"))]
    return out + [Variant(_box(x)) for x in ("", "\\phantom{}", "\\text{same as the reference}", "\\quad",
                                               "\\text{correct}", "?", "\\ldots", "\\text{answer}")]


def _unicode_box(task):
    out = []
    for x in candidates(question_text(task))[:25]:
        out += [Variant(_box(f"\ud800{x}"), x), Variant(_box(f"{x}\x00"), x), Variant(_box(f"\u202e{x}"), x)]
    return out + [Variant(_box("\ud800")), Variant(_box("\x00"))]


REDUCED_FORMS = ("fraction", "number")  # task.meta["form"] values whose fractions must be in lowest terms
WRAPPINGS = ("{a}/{b}", "({a}/{b})", "(({a}/{b}))", "\\left({a}/{b}\\right)", "{{({a}/{b})}}", "(+{a}/{b})",
             "x = ({a}/{b})", "\\frac{{{a}}}{{{b}}}", "\\left(\\frac{{{a}}}{{{b}}}\\right)", "\\tfrac{{{a}}}{{{b}}}")


def _unreduced(task):
    """Each guessable value as a fraction not in lowest terms (x2 and x3), in each wrapping the parser
    looks through: `(6/9)` once paid on "Give the answer as a reduced fraction" because a regex looked for
    the fraction at the end of the string. Only for tasks that declare a form wanting lowest terms; the form
    is said in the question, so reading it is not reading the gold."""
    if (task.meta or {}).get("form") not in REDUCED_FORMS:
        return []
    out = []
    for x in candidates(question_text(task))[:30]:
        num, _, den = x.partition("/")
        a, b = int(num), int(den or 1)
        for k in (2, 3):
            out += [Variant(_box(w.format(a=k * a, b=k * b))) for w in WRAPPINGS]
    return out


def _stall(task):
    frac = "\\frac{1}{"
    return [Variant("The answer is \\boxed{" + frac * 2000), Variant("The answer is \\boxed{" + frac * 4600),
            Variant("The answer is \\boxed{" + frac * 2000 + "1" + "}" * 4000),
            Variant("\\boxed{" * 100_000), Variant("\\boxed{" + "9" * 5000 + "}"), Variant("\\boxed{" + "9" * 1_000_000 + "}"),
            Variant(_box("9^{9^{9^{9^{9}}}}")), Variant(_box("100000!")), Variant(_box("\\sum_{k=1}^{20000} k")),
            Variant(_box("x^{30000} + 2")), Variant(_box("\\sqrt{" * 300 + "2" + "}" * 300)),
            Variant(_box("(" * 5000 + "1" + ")" * 5000)), Variant("\\boxed{1} " * 100_000)]


ANSWER = [
    Probe("restate-question", "restate", ("math",), _restate,
          "the question's expressions, equations, 'compute X' targets and the whole question, boxed",
          coincidence_ok=True),
    Probe("box-each-number", "numbers", ("math",), _numbers, "each number of the question boxed alone",
          coincidence_ok=True),
    Probe("hedge-many-boxes", "hedge", ("math",), _hedge_boxes, "guessable candidates in many boxes, 'a or b'"),
    Probe("hedge-list", "hedge", ("math",), _hedge_lists, "all candidates as one list / set / tuple / 'or' chain"),
    Probe("hedge-range", "hedge", ("math",), _hedge_ranges, "intervals, inequalities, 'any number', the variable",
          coincidence_ok=True),
    Probe("hedge-prose", "hedge", ("math",), _hedge_prose, "unboxed 'It could be a, b or c.'"),
    Probe("unclosed-box", "truncated", ("math",), _unclosed, "a box that is never closed: \\boxed{12"),
    Probe("hidden-box", "hidden", ("math",), _hidden, "the guess only inside <think> or a code fence"),
    Probe("junk-in-box", "hedge", ("math",), _junk_in_box, "a guess plus \\text{} junk, empty and phantom boxes"),
    Probe("unicode-in-box", "unicode", ("math",), _unicode_box,
          "lone surrogates, NUL, RTL marks inside a box (next to a guess: paying the gold is fine)", coincidence_ok=True),
    Probe("unreduced-fraction", "form", ("math",), _unreduced,
          "a guess as an unreduced fraction, bare or in (), \\left( \\right), {}, x = (), \\frac (lowest-terms tasks)"),
    Probe("stall-extraction", "huge", ("math",), _stall,
          "nested \\frac{ (2000, 4600), 100k unclosed boxes, 1 MB number, power towers, huge factorials",
          timed=True),
]
