"""The house's import rules (DESIGN.md), held by reading every module's imports with `ast`:

    CLIs -> evaluation, integrations -> agents -> envs, rlhf -> verifiers -> core, data, stats, lm, runs

no import cycles among module-level imports, `envs` never imports torch at module level (the reward
model's scorer loads it lazily), `verifiers` never imports `envs`, and `agents/grpo.py` imports only torch.

    python -m pytest -q tests/test_import_graph.py
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "reasongym"
# Rank of each top-level part of the package: a module may import parts of its own rank or lower.
RANKS = {
    "core": 0, "data": 0, "stats": 0, "lm": 0, "runs": 0, "spaces": 0, "registry": 0, "cli": 0,
    "datasets": 0,
    "verifiers": 1,
    "envs": 2, "rlhf": 2,
    "agents": 3,
    "evaluation": 4, "integrations": 4,
}
CLI_RANK = 5  # train, sft, evaluate, reward, audit, ... and anything not named above; also config.py,
# the CLIs' settings, whose AgentConfig derives from agents/grpo.py's LossConfig (one source per knob)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py") if "sandboxed" not in p.parts}


def imports(path: Path, module_level_only: bool) -> set[str]:
    """The reasongym modules (or packages) a file imports; relative imports resolved."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    if module_level_only:  # also look inside top-level try/if blocks, not inside functions
        stack, nodes = list(tree.body), []
        while stack:
            n = stack.pop()
            nodes.append(n)
            if isinstance(n, ast.If | ast.Try):
                stack.extend(n.body + n.orelse + getattr(n, "finalbody", []) +
                             [s for h in getattr(n, "handlers", []) for s in h.body])
    found = set()
    here = module_name(path).split(".")
    is_pkg = path.name == "__init__.py"
    for n in nodes:
        if isinstance(n, ast.Import):
            found |= {a.name for a in n.names}
        elif isinstance(n, ast.ImportFrom):
            base = n.module or ""
            if n.level:
                anchor = here if is_pkg else here[:-1]
                anchor = anchor[: len(anchor) - (n.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in n.names if f"{base}.{a.name}" in MODULES}
    return {m for m in found if m == "torch" or m.startswith("torch.") or m.split(".")[0] == "reasongym"}


def rank(module: str) -> int:
    parts = module.split(".")
    return RANKS.get(parts[1], CLI_RANK) if len(parts) > 1 else CLI_RANK  # reasongym/__init__ re-exports


def test_imports_flow_one_way():
    bad = []
    for mod, path in MODULES.items():
        for dep in imports(path, module_level_only=False):
            if dep.startswith("reasongym.") and rank(dep) > rank(mod):
                bad.append(f"{mod} (rank {rank(mod)}) imports {dep} (rank {rank(dep)})")
    assert not bad, "imports against DESIGN.md's flow:\n" + "\n".join(sorted(bad))


def test_no_import_cycles():
    graph = {m: {d for d in imports(p, module_level_only=True) if d in MODULES and d != m}
             for m, p in MODULES.items()}
    # a package's __init__ importing its own submodules is how packages work, not a cycle
    graph = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    cycles, state = [], {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(" -> ".join(trail[trail.index(d):] + [d]))
            elif d not in state:
                visit(d, trail + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("package", ["envs", "verifiers"])
def test_no_module_level_torch(package):
    heavy = [m for m, p in MODULES.items() if m.startswith(f"reasongym.{package}")
             and any(d == "torch" or d.startswith("torch.") for d in imports(p, module_level_only=True))]
    assert not heavy, f"these import torch at module level: {heavy}"


def test_grpo_imports_only_torch():
    path = ROOT / "agents" / "grpo.py"
    deps = {d for d in imports(path, module_level_only=False) if d.startswith("reasongym")}
    assert not deps, f"agents/grpo.py must import only torch (the one-screen algorithm), not {deps}"
