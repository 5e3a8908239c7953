"""Language-model utilities that need a tokenizer at most, never an environment or a trainer.

    models.py           find and load causal LMs: the embedded default (GGUF converted once), HF names and
                        folders, LoRA adapters; check_model fails in seconds on a missing folder or hub
    precision.py        bf16 or fp32 (`auto`: bf16 where the hardware is fast at it), autocast
    logprobs.py         per-token log-probs and entropy with the output head in chunks (TokenLogProbs)
    template_check.py   is a chat template prefix-preserving for multi-turn rows? (`python -m reasongym.check_template`)
"""
