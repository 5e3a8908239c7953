"""Every built-in environment id, registered here and nowhere else. `python -m reasongym.envs` lists them.

Entry points are strings, so nothing heavy is imported until an environment is made.
"""

from reasongym.registry import register

register(
    "reasongym/Math-v0",
    entry_point="reasongym.envs.math:MathEnv",
    description="procedural math: arithmetic, word problems, equations, fractions, algebra (difficulty 1-5)",
    splits=("train", "heldout"),
    verifier="math (\\boxed + sympy)",
    alias={"math": {}, "math-heldout": {"split": "heldout"}},
)
