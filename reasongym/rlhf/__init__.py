"""RLHF: ranking data (`preferences`), the reward model (`model`), its batched scorer (`scorer`) and its
trainer (`train`). The CLI is `python -m reasongym.reward`; the environment is `envs/preference.py`."""
