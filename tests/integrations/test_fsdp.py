"""Scale-out check on CPU: a GRPO step of reasongym's loss sharded with torch FSDP2 over two gloo processes
equals the same step unsharded in one process.

    OMP_NUM_THREADS=1 python -m pytest -q tests/integrations/test_fsdp.py      # ~60 s (three processes)

What runs: the tiny model wrapped in reasongym's TokenLogProbs (the module the Learner trains), each
decoder layer and then the wrapper `fully_shard`-ed (FSDP2, torch.distributed.fsdp), reasongym's
`grpo.policy_loss` on fixed rows, AdamW, two steps; each process takes half of the groups and normalises
by the global token count (times the world size, as FSDP averages gradients). Through `accelerate` this
is not testable on CPU: accelerate 1.16 turns on FSDP only for multi-GPU/NPU/XPU... distributed types,
never MULTI_CPU (accelerate/state.py), so `Accelerator(cpu=True, fsdp_plugin=...)` silently runs DDP.
configs/accelerate/fsdp.yaml is for GPUs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import os, sys, torch, torch.distributed as dist
from transformers import AutoModelForCausalLM
from reasongym.agents.grpo import LossConfig, policy_loss
from reasongym.lm.logprobs import TokenLogProbs

def rows():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(4, 90, (8, 20), generator=g)
    mask = torch.zeros(8, 19)
    for i in range(8):
        mask[i, 6:6 + int(torch.randint(4, 13, (1,), generator=g))] = 1.0   # completion positions
    adv = torch.randn(8, generator=g)
    return ids, mask, adv

def main(model_dir, out):
    sharded = "WORLD_SIZE" in os.environ
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    module = TokenLogProbs(model)
    ids, mask, adv = rows()
    n_tokens, world, rank = float(mask.sum()), 1, 0
    if sharded:
        from torch.distributed.fsdp import fully_shard
        dist.init_process_group("gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        for layer in model.model.layers:
            fully_shard(layer)
        fully_shard(module)
        ids, mask, adv = ids[rank::world], mask[rank::world], adv[rank::world]
    cfg = LossConfig(clip_low=0.2, clip_high=0.28, beta=0.0, loss_norm="token")
    opt = torch.optim.AdamW(module.parameters(), lr=1e-2)
    old = None
    for _ in range(2):
        logp, _ = module(ids, torch.ones_like(ids))
        old = logp.detach() if old is None else old
        loss, _ = policy_loss(logp, old, adv, mask, cfg, n_tokens=n_tokens)
        (loss * world).backward()
        opt.step(); opt.zero_grad()
    state = {k: (v.full_tensor() if hasattr(v, "full_tensor") else v).detach().clone()
             for k, v in module.state_dict().items()}
    if rank == 0:
        torch.save(state, out)
    if sharded:
        dist.destroy_process_group()

main(*sys.argv[1:3])
'''


def _run(args, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_fsdp2_sharded_grpo_step_equals_unsharded(tiny_model_dir, tmp_path):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend")
    script = tmp_path / "fsdp_step.py"
    script.write_text(SCRIPT)
    one = _run([sys.executable, str(script), str(tiny_model_dir), str(tmp_path / "one.pt")], tmp_path)
    assert one.returncode == 0, one.stderr[-2000:]
    two = _run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", str(script),
                str(tiny_model_dir), str(tmp_path / "two.pt")], tmp_path)
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    assert a.keys() == b.keys()
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert worst < 1e-4, f"sharded and unsharded weights differ by {worst}"
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    moved = max(float((a[k] - base[k.removeprefix("model.")]).abs().max()) for k in a
                if k.removeprefix("model.") in base)
    assert moved > 1e-3, "the step changed nothing, so the comparison proves nothing"
