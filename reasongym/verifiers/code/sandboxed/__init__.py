"""Code that runs *inside* the sandbox. Nothing here is imported by the host for execution.

`reasongym.verifiers.code.sandbox` ships these files' source text into each sandbox run:

    boot.py   the first code to run in every sandbox: rlimits, dropping root, closing fds, then the program
    wire.py   the plain-data codec both sides of a function test speak (the host imports it too, to decode)
    serve.py  the candidate side of a function test: loads the solution, answers calls with plain data
    check.py  the harness side: runs trusted test code against a proxy of the candidate (another sandbox)

They use the standard library only and import each other as top-level modules (`import wire`), because
inside the sandbox they sit side by side in the work dir.
"""
