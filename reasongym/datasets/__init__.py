"""Benchmark data that ships with reasongym (package data, no code): GSM8K test, MATH-500, HumanEval, MBPP.

Gzipped JSONL, byte-identical to the upstream files once decompressed (sha256 in SOURCES.md); licences in
LICENSES.md. Loaders find them through `reasongym.data.data_file` (`python -m reasongym.data` shows where
each name resolves). Nothing here is imported at run time.
"""
