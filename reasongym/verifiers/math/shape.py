r"""The structural answer forms, checked on the parser's unevaluated sympy tree. Runs in the worker.

`form.py` says what each form means and checks the literal ones without sympy; this module checks the
forms that need the tree (never by counting operations: `(x + 8)(x + 7)` and `x^2 + 15x + 56` differ in
shape, not in length):

- `expanded` / `simplified`: a sum of monomials (a coefficient times powers of variables), no product or
  power of a sum left, like terms collected (each monomial once, one constant term), coefficients
  worked out (`2 \cdot 3x` is not);
- `factored`: not a sum (unless the gold itself is one: an irreducible polynomial);
- `expression`: no integral, derivative, sum, product, limit, binomial, and no function of a constant
  (`\log_2 64`, `\sin(\pi/6)`, `5!`) of a kind the gold does not have.

    structural_problem("(x+8)(x+7)", "x^2+15x+56", "expanded")   # 'not expanded: ...'
"""

from __future__ import annotations

import re

import sympy

from reasongym.verifiers.math.parse import parse_tree
from reasongym.verifiers.math.structure import read_item, split_items

CALCULUS = (sympy.Integral, sympy.Derivative, sympy.Sum, sympy.Product, sympy.Limit)
BINOMIAL = re.compile(r"\\[dt]?binom|\\choose")


def factors(term: sympy.Basic) -> list[sympy.Basic]:
    """The factors of a product, nested products flattened."""
    if isinstance(term, sympy.Mul):
        return [f for a in term.args for f in factors(a)]
    return [term]


def summands(e: sympy.Basic) -> list[sympy.Basic]:
    """The terms of a sum, nested sums flattened."""
    if isinstance(e, sympy.Add):
        return [t for a in e.args for t in summands(a)]
    return [e]


def monomial_key(term: sympy.Basic) -> tuple | str:
    """The variables-and-powers key of a monomial term, or a string saying why the term is not one."""
    powers: dict[str, int] = {}
    numbers = reciprocals = 0
    for f in factors(term):
        if f.is_Number:
            numbers += f not in (1, -1)
        elif isinstance(f, sympy.Symbol):
            powers[f.name] = powers.get(f.name, 0) + 1
        elif isinstance(f, sympy.Pow) and isinstance(f.base, sympy.Symbol) and f.exp.is_Integer and f.exp > 0:
            powers[f.base.name] = powers.get(f.base.name, 0) + int(f.exp)
        elif isinstance(f, sympy.Pow) and f.base.is_Integer and f.exp == -1:
            reciprocals += 1
        elif isinstance(f, (sympy.Add, sympy.Pow)) and f.has(sympy.Add):
            return f"a product or power of a sum is left ({sympy.sstr(f)[:40]})"
        else:
            return f"{sympy.sstr(f)[:40]} is not a monomial factor"
    if numbers > 1 or reciprocals > 1:
        return f"the coefficient of {sympy.sstr(term)[:40]} is not worked out"
    return tuple(sorted(powers.items()))


def polynomial_problem(tree: sympy.Basic, form: str) -> str | None:
    """Why the tree is not an expanded polynomial with like terms collected (None when it is)."""
    seen: set = set()
    for term in summands(tree):
        key = monomial_key(term)
        if isinstance(key, str):
            return f"not {form}: {key}"
        if key in seen:
            return f"not {form}: like terms are not collected"
        seen.add(key)
    return None


def unevaluated_problem(tree: sympy.Basic, gold_tree: sympy.Basic | None, pred: str, gold: str) -> str | None:
    """Why the answer still holds work the gold does not (an integral, `\\log_2 64`), or None."""
    if BINOMIAL.search(pred) and not BINOMIAL.search(gold):
        return "not worked out: a binomial coefficient is left unevaluated"
    gold_kinds = {type(n) for n in sympy.preorder_traversal(gold_tree)} if gold_tree is not None else set()
    for node in sympy.preorder_traversal(tree):
        if isinstance(node, CALCULUS) and type(node) not in gold_kinds:
            return f"not worked out: {type(node).__name__.lower()} left unevaluated"
        if isinstance(node, sympy.Function) and not node.free_symbols and type(node) not in gold_kinds:
            return f"not worked out: {sympy.sstr(node)[:40]} is a function of a constant left unevaluated"
    return None


def tree_of(answer: str) -> sympy.Basic | None:
    """The unevaluated tree of a one-item answer's value (None when it has several items or no parse)."""
    items, _ = split_items(answer)
    if len(items) != 1:
        return None
    item = read_item(items[0])
    try:
        tree = parse_tree(item.value if item.equation is None or item.assignment else items[0])
    except Exception:
        return None
    return tree if isinstance(tree, sympy.Basic) else None


def structural_problem(pred: str, gold: str, form: str) -> str | None:
    """Why a normalised answer is not in the structural `form` (see the module docstring), or None."""
    tree = tree_of(pred)
    if tree is None:
        return None  # several items or no parse: the comparison decides
    if isinstance(tree, (sympy.Equality, sympy.core.relational.Relational)) and form != "expression":
        return f"not {form}: an equation, not an expression"
    if form in ("expanded", "simplified"):
        return polynomial_problem(tree, form)
    if form == "factored":
        gold_tree = tree_of(gold)
        if len(summands(tree)) > 1 and (gold_tree is None or len(summands(gold_tree)) == 1):
            return "not factored: the answer is a sum"
        return None
    return unevaluated_problem(tree, tree_of(gold), pred, gold)
