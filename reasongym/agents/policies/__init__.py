"""Policies: what answers chat observations. hf.py (a Hugging Face causal LM, its sampler injected),
sampler.py (the `Sampler` protocol and the default KV-cache loop), remote.py (any OpenAI-compatible
server), scripted.py (an oracle for tests). Import the module you need; `reasongym.agents` re-exports the
public names lazily."""
