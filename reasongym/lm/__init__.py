"""Language-model utilities that need a tokenizer at most, never an environment or a trainer.

    template_check.py   is a chat template prefix-preserving for multi-turn rows? (`python -m reasongym.check_template`)
"""
