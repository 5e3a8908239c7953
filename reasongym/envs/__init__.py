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
    alias={"math": {}, "math-heldout": {"split": "heldout"}, "arithmetic": {"kinds": ["arithmetic"]}},
)

register(
    "reasongym/GSM8K-v0",
    entry_point="reasongym.envs.math:GSM8KEnv",
    description="GSM8K grade-school word problems: the test set shipped with the package, a file (path=) or hf='openai/gsm8k'",
    splits=("train", "test"),
    verifier="math (\\boxed + sympy)",
    alias="gsm8k",
)

register(
    "reasongym/MATH500-v0",
    entry_point="reasongym.envs.math:MATH500Env",
    description="MATH-500 competition problems shipped with the package, a file (path=) or hf=; levels=[1, 2] filters",
    splits=("test",),
    verifier="math (\\boxed + sympy)",
    alias="math500",
)

register(
    "reasongym/MathFile-v0",
    entry_point="reasongym.envs.math:MathFileEnv",
    description="any JSONL / JSON / Parquet math file or HF dataset, with a field mapping (fields=)",
    verifier="math (\\boxed + sympy)",
    alias="math-file",
)

register(
    "reasongym/Code-v0",
    entry_point="reasongym.envs.code:CodeEnv",
    description="procedural Python function-writing tasks, hidden tests run in a bwrap sandbox (difficulty 1-5)",
    splits=("train", "heldout"),
    verifier="code (tests in the sandbox)",
    alias={"code": {}, "code-heldout": {"split": "heldout"}},
)

register(
    "reasongym/CodeMultiTurn-v0",
    entry_point="reasongym.envs.code:CodeEnv",
    description="Code-v0 over up to 3 turns: a failed attempt gets the first failing test back (max_turns=)",
    splits=("train", "heldout"),
    verifier="code (tests in the sandbox)",
    alias={"code-multiturn": {}, "code-multiturn-heldout": {"split": "heldout"}},
    kwargs={"max_turns": 3},
)

register(
    "reasongym/HumanEval-v0",
    entry_point="reasongym.envs.code:HumanEvalEnv",
    description="the 164 HumanEval problems (shipped with the package, or path=), evaluation only",
    splits=("heldout",),
    verifier="code (check(candidate) in a harness sandbox)",
    alias="humaneval",
)

register(
    "reasongym/MBPP-v0",
    entry_point="reasongym.envs.code:MBPPEnv",
    description="MBPP problems (shipped with the package, or path=); split train/validation/heldout/all",
    splits=("train", "validation", "heldout"),
    verifier="code (asserts in a harness sandbox)",
    alias={"mbpp": {}, "mbpp-heldout": {"split": "heldout"}},
)

register(
    "reasongym/Preference-v0",
    entry_point="reasongym.envs.preference:PreferenceEnv",
    description="open-ended prompts (prompts=) scored by a learned reward model (rm=), optional verifier",
    splits=("train", "heldout"),
    verifier="reward model (+ optional verifier)",
    alias={"preference": {}, "preference-heldout": {"split": "heldout"}},
)

register(
    "reasongym/Jagged-v0",
    entry_point="reasongym.envs.jagged:JaggedEnv",
    description="jagged tasks: count letters, compare decimals, long multiplication, dates, units (difficulty 1-5)",
    splits=("train", "heldout"),
    verifier="exact (one closed box, no hedge)",
    alias={"jagged": {}, "jagged-heldout": {"split": "heldout"}},
)

register(
    "reasongym/PythonTool-v0",
    entry_point="reasongym.envs.tool:PythonToolEnv",
    description="a math task source (source=math, gsm8k, math500, ...) with a sandboxed Python tool (max_calls=)",
    splits=("train", "heldout"),
    verifier="the source's, on the final answer only",
    alias={"python-tool": {}, "math-tool": {}, "math-tool-heldout": {"split": "heldout"}},
)

register(
    "reasongym/JaggedTool-v0",
    entry_point="reasongym.envs.tool:PythonToolEnv",
    description="Jagged-v0 with the sandboxed Python tool: same tasks and ids, code runs before the answer",
    splits=("train", "heldout"),
    verifier="exact (one closed box, no hedge), final answer only",
    alias={"jagged-tool": {}, "jagged-tool-heldout": {"split": "heldout"}},
    kwargs={"source": "reasongym/Jagged-v0"},
)

register(
    "reasongym/ReasoningGym-v0",
    entry_point="reasongym.integrations.reasoning_gym:ReasoningGymEnv",
    description="a reasoning-gym procedural dataset (dataset=, config=; pip install 'reasongym[reasoning-gym]')",
    splits=("train", "heldout"),
    verifier="the dataset's own score_answer on the last \\boxed{}",
    alias={"reasoning-gym": {}, "reasoning-gym-heldout": {"split": "heldout"}},
)
