"""The math verifier: the last closed `\\boxed{}` outside think and code, in the form the task asks for,
compared with the gold by exact methods first and sympy in killable workers (see `verifier.py`).

    from reasongym.verifiers.math import MathVerifier, is_equivalent
"""

from reasongym.verifiers.math.verifier import MathVerifier, check, is_equivalent, normalize_answer

__all__ = ["MathVerifier", "check", "is_equivalent", "normalize_answer"]
