"""Kept so the import path `reasongym.verifiers.sandbox` (used by `run_attacks.py --runner` and older
scripts) still works: the sandbox lives in `reasongym/verifiers/code/sandbox.py`."""

from reasongym.verifiers.code.sandbox import *  # noqa: F401,F403
from reasongym.verifiers.code.sandbox import run_for_harness, run_program  # noqa: F401
