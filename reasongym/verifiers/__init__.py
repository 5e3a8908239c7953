"""Verifiers: everything that turns (task, completion) into a Verdict. See each module's docstring."""
