"""Agents: policies (HF causal LMs, LoRA), rollout collection and the GRPO learner. These import torch."""
