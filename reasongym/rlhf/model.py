"""A learned reward model: one scalar per (prompt, response), from a causal LM with a 1-output head.

The model is `AutoModelForSequenceClassification(num_labels=1)` on any causal LM backbone (for Llama-family
models such as the embedded SmolLM2 that is `LlamaForSequenceClassification`); the score is the head's
output at the last real token of the chat-formatted conversation. It trains on human rankings with the
Bradley-Terry loss on every ordered pair (or a Plackett-Luce loss on whole rankings); the trainer is
`python -m reasongym.reward train` (reasongym/rlhf/train.py).

    rm = RewardModel.from_backbone(path, trainable="lora", lora_r=16)     # fresh head, for training
    rm = RewardModel.load("runs/rm-001/final")                            # a trained one
    rm.score([[{"role": "user", "content": "Tell a joke"}]], ["Why did the ..."])   # -> [1.73]

`save` writes a plain Hugging Face folder (LoRA merged): `AutoModelForSequenceClassification.from_pretrained`
loads it in any tool and, because the pad token never ends a scored text, gives the same scores; the
reasongym settings (max_len, prompt_turns, score statistics) sit beside it in reward_model.json.
Trainable parts: "lora" (adapters + head), "full", or "top" (the last `top_layers` decoder layers, the
final norm and the head: the backward pass stops there, cheap on a CPU). `layers=N` keeps only the first
N decoder layers of the backbone (a smaller, faster reward model).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from reasongym.core import Messages
from reasongym.lm.precision import autocast, resolve_precision

SETTINGS_FILE = "reward_model.json"
TRAINABLE = ("lora", "full", "top")


def bradley_terry_loss(better: torch.Tensor, worse: torch.Tensor) -> torch.Tensor:
    """Per-pair -log sigmoid(s_better - s_worse): the Bradley-Terry negative log-likelihood. (P,) -> (P,)"""
    return -F.logsigmoid(better - worse)


def plackett_luce_loss(scores: torch.Tensor) -> torch.Tensor:
    """NLL of a full ranking under Plackett-Luce, per choice: scores (K,) in best-first order -> scalar.

    The best is chosen from all K, the second from the remaining K-1, ...; divided by the K-1 choices, so
    a pair (K = 2) gives exactly the Bradley-Terry loss.
    """
    k = scores.shape[0]
    tails = torch.stack([torch.logsumexp(scores[i:], dim=0) for i in range(k - 1)])  # (K-1,)
    return (tails - scores[: k - 1]).sum() / (k - 1)


class RewardModel(nn.Module):
    """forward(input_ids, attention_mask) -> scores (B,). Holds the HF model (maybe peft-wrapped) and tokenizer."""

    def __init__(self, model: nn.Module, tokenizer, *, max_len: int = 512, prompt_turns: int = 0,
                 precision: str = "fp32", stats: dict | None = None, name: str = ""):
        super().__init__()
        self.model, self.tokenizer = model, tokenizer
        self.max_len, self.prompt_turns, self.precision = int(max_len), int(prompt_turns), precision
        self.stats, self.name = dict(stats or {}), name
        hf = self.hf
        if not hasattr(hf, "score") or getattr(hf.config, "num_labels", 1) != 1:
            raise ValueError(f"{type(hf).__name__} is not a 1-output sequence classifier with a `score` head")

    # -- building ----------------------------------------------------------------------------------
    @classmethod
    def from_backbone(cls, path: str, *, trainable: str = "lora", lora_r: int = 16, lora_alpha: int = 0,
                      top_layers: int = 4, layers: int = 0, max_len: int = 512, prompt_turns: int = 0,
                      precision: str = "fp32") -> RewardModel:
        """A fresh reward model on the causal LM at `path` (a Hugging Face folder or hub name)."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        if trainable not in TRAINABLE:
            raise ValueError(f"trainable must be one of {TRAINABLE}, got {trainable!r}")
        tokenizer = _tokenizer(AutoTokenizer.from_pretrained(path), path)
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # the new head is reported "missing" from the LM checkpoint: expected
        try:
            model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, dtype=torch.float32)
        finally:
            hf_logging.set_verbosity(verbosity)
        model.config.pad_token_id = tokenizer.pad_token_id
        if layers:
            _keep_first_layers(model, layers)
        if trainable == "lora":
            from reasongym.lm.models import add_lora

            model = add_lora(model, r=lora_r, lora_alpha=lora_alpha or 2 * lora_r, target_modules="all-linear",
                             task_type="SEQ_CLS")
        elif trainable == "top":
            _train_top_layers(model, top_layers)
        return cls(model, tokenizer, max_len=max_len, prompt_turns=prompt_turns, precision=precision,
                   name=str(path))

    @classmethod
    def load(cls, folder: str | Path, *, device: str | torch.device = "cpu", precision: str = "auto") -> RewardModel:
        """A reward model saved by `save` (or any 1-output HF sequence classifier with a chat template)."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        folder = Path(folder)
        if not (folder / "config.json").exists():
            raise FileNotFoundError(f"{folder}: no config.json; pass a folder written by "
                                    "`python -m reasongym.reward train` (runs/<rm>/final)")
        settings = json.loads((folder / SETTINGS_FILE).read_text()) if (folder / SETTINGS_FILE).exists() else {}
        model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32).eval()
        tokenizer = _tokenizer(AutoTokenizer.from_pretrained(folder), str(folder))
        rm = cls(model, tokenizer, max_len=settings.get("max_len", 512),
                 prompt_turns=settings.get("prompt_turns", 0), precision=resolve_precision(precision, device),
                 stats=settings.get("stats"), name=str(folder))
        return rm.requires_grad_(False).to(device)

    @property
    def hf(self) -> nn.Module:
        """The HF sequence classifier (inside a peft wrapper, its LoRA layers stay active)."""
        return self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model

    @property
    def backbone(self) -> nn.Module:
        return getattr(self.hf, self.hf.base_model_prefix)

    # -- text -> scores ----------------------------------------------------------------------------
    def encode(self, prompt: Messages, response: str) -> list[int]:
        """Token ids of the chat-formatted conversation ending in `response`, its last max_len tokens.

        prompt_turns > 0 keeps only the last prompt_turns messages of the prompt (a system message stays).
        """
        if self.prompt_turns:
            system = [m for m in prompt[:1] if m["role"] == "system"]
            prompt = system + [m for m in prompt[len(system):]][-self.prompt_turns:]
        text = self.tokenizer.apply_chat_template(list(prompt) + [{"role": "assistant", "content": response}],
                                                  tokenize=False)
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        while ids and ids[-1] == self.tokenizer.pad_token_id:  # HF pools at the last non-pad token
            ids = ids[:-1]
        return ids[-self.max_len:]

    def batch(self, seqs: list[list[int]], device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-padded (B, T) ids and attention mask."""
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, s in enumerate(seqs):
            ids[i, : len(s)], mask[i, : len(s)] = torch.tensor(s), 1
        return ids.to(device), mask.to(device)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # (B, T, H)
        last = attention_mask.sum(dim=1) - 1  # (B,) right padding: the last real token
        pooled = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]  # (B, H)
        return self.hf.score(pooled).squeeze(-1).float()  # (B,)

    @torch.no_grad()
    def score_ids(self, seqs: list[list[int]], batch_size: int = 16) -> list[float]:
        """Scores of token sequences, batched by similar length (little padding); order preserved."""
        device = next(self.parameters()).device
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        out = [0.0] * len(seqs)
        was_training = self.training
        self.eval()
        try:
            for i in range(0, len(order), batch_size):
                chunk = order[i: i + batch_size]
                ids, mask = self.batch([seqs[j] for j in chunk], device)
                with autocast(device, self.precision):
                    scores = self(ids, mask).tolist()
                for j, s in zip(chunk, scores):
                    out[j] = s
        finally:
            self.train(was_training)
        return out

    def score(self, prompts: list[Messages], responses: list[str], batch_size: int = 16) -> list[float]:
        """One score per (prompt, response), batched."""
        if len(prompts) != len(responses):
            raise ValueError(f"score got {len(prompts)} prompts but {len(responses)} responses")
        return self.score_ids([self.encode(p, r) for p, r in zip(prompts, responses)], batch_size)

    # -- saving ------------------------------------------------------------------------------------
    def save(self, folder: str | Path, **settings) -> None:
        """Hugging Face folder (LoRA merged into the weights) + reward_model.json with the settings."""
        folder = Path(folder)
        model = self.model
        if hasattr(model, "merge_and_unload"):
            model = copy.deepcopy(model).merge_and_unload()
        model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        info = {"max_len": self.max_len, "prompt_turns": self.prompt_turns, "stats": self.stats, **settings}
        (folder / SETTINGS_FILE).write_text(json.dumps(info, indent=1, default=str))


def _tokenizer(tokenizer, path: str):
    if tokenizer.chat_template is None:
        raise ValueError(f"{path}: the tokenizer has no chat template; the reward model reads chat messages. "
                         "Use an instruct/chat backbone or set tokenizer.chat_template and save it.")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    return tokenizer


def _decoder_layers(model: nn.Module) -> nn.ModuleList:
    backbone = getattr(model, model.base_model_prefix)
    layers = getattr(backbone, "layers", None)
    if not isinstance(layers, nn.ModuleList):
        raise ValueError(f"{type(model).__name__}: no `layers` list in the backbone; use trainable=lora or full")
    return layers


def _keep_first_layers(model: nn.Module, n: int) -> None:
    layers = _decoder_layers(model)
    if not 0 < n <= len(layers):
        raise ValueError(f"layers={n}: the backbone has {len(layers)} decoder layers")
    backbone = getattr(model, model.base_model_prefix)
    backbone.layers = nn.ModuleList(list(layers)[:n])
    model.config.num_hidden_layers = n
    if isinstance(getattr(model.config, "layer_types", None), list):
        model.config.layer_types = model.config.layer_types[:n]


def _train_top_layers(model: nn.Module, k: int) -> None:
    layers = _decoder_layers(model)
    if not 0 <= k <= len(layers):
        raise ValueError(f"top_layers={k}: the backbone has {len(layers)} decoder layers")
    model.requires_grad_(False)
    for layer in list(layers)[len(layers) - k:]:
        layer.requires_grad_(True)
    backbone = getattr(model, model.base_model_prefix)
    if k and getattr(backbone, "norm", None) is not None:
        backbone.norm.requires_grad_(True)
    model.score.requires_grad_(True)


def pairwise_metrics(scores: list[float], rankings) -> tuple[list[float], list[float]]:
    """Per-ranking pairwise accuracy (ties count half) and mean Bradley-Terry loss, given the scores of
    every response of every ranking, flattened in order."""
    accs, losses, k = [], [], 0
    for r in rankings:
        s = scores[k: k + len(r.responses)]
        k += len(r.responses)
        pairs = r.pairs()
        better = torch.tensor([s[i] for i, _ in pairs])
        worse = torch.tensor([s[j] for _, j in pairs])
        accs.append(float(((better > worse).float() + 0.5 * (better == worse).float()).mean()))
        losses.append(float(bradley_terry_loss(better, worse).mean()))
    return accs, losses
