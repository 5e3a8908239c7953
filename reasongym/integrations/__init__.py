"""Adapters that let other trainers use reasongym environments; each reward goes through the env's verifier.

    reasongym.integrations.trl             TRL GRPOTrainer: reward_function, dataset, ToolEnv (multi-turn)
    reasongym.integrations.verl            verl: compute_score, `python -m reasongym.integrations.verl export`
    reasongym.integrations.openrlhf        OpenRLHF: reward_func(queries, prompts, labels) for --remote_rm_url
    reasongym.integrations.prime_verifiers verifiers (PrimeIntellect): load_environment(env_id)
    reasongym.integrations.reasoning_gym   reasoning-gym's procedural datasets as reasongym/ReasoningGym-v0

Each adapter module also has `score(env_id, task, completion_text) -> float`, the same reward through that
adapter's own entry point, so the reward audit can probe every path. Nothing here is imported by
`import reasongym`; each module imports its framework only when used.
"""
