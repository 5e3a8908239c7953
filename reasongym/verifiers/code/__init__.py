"""The code verifier and its sandbox: candidate programs run against hidden tests under bubblewrap
(see `verifier.py`, `runs.py` (io, call), `asserts.py` (HumanEval/MBPP tests isolated from the candidate),
`sandbox.py`; `sandboxed/` is what runs inside the sandbox).

    from reasongym.verifiers.code import CodeVerifier, run_program
"""

from reasongym.verifiers.code.sandbox import (
           Limits,
           Sandbox,
           SandboxError,
           default_sandbox,
           run_for_harness,
           run_program,
)
from reasongym.verifiers.code.verifier import CodeVerifier, extract_code

__all__ = ["CodeVerifier", "Limits", "Sandbox", "SandboxError", "default_sandbox", "extract_code",
           "run_for_harness", "run_program"]
