"""One GRPO update of the tiny model on fixed rows, run by 1 or N processes; rank 0 saves the weights.

    torchrun --nproc_per_node 2 tests/dist_update.py MODEL_DIR OUT.pt
Used by tests/test_trainer.py to show N processes give the same update as one.
"""

import sys

import torch
from accelerate import Accelerator

from reasongym.agents.grpo import LossConfig
from reasongym.agents.learner import Learner
from reasongym.agents.policies.hf import HFPolicy
from reasongym.agents.rollout import Row


def fixed_rows(policy, n_groups: int = 6, group: int = 4) -> list[Row]:
    gen = torch.Generator().manual_seed(0)
    rows = []
    for g in range(n_groups):
        prompt = policy.encode_chat([{"role": "user", "content": f"task {g}"}])
        for _ in range(group):
            n = int(torch.randint(2, 9, (1,), generator=gen))
            completion = torch.randint(4, 90, (n,), generator=gen).tolist()
            # groups 0 and 2 carry no signal: skipped, so the two processes run unequal live rows
            adv = 0.0 if g in (0, 2) else float(torch.randn(1, generator=gen))
            rows.append(Row(prompt + completion, [0] * len(prompt) + [1] * n, advantage=adv))
    return rows


def main(model_dir: str, out: str) -> None:
    acc = Accelerator(cpu=True)
    policy = HFPolicy.load(model_dir, precision="fp32")
    learner = Learner(policy, acc, lr=1e-2, total_steps=2, micro_batch_size=3, max_grad_norm=1e9,
                      loss=LossConfig(clip_low=0.2, clip_high=0.28, beta=0.0, loss_norm="token"))
    rows = fixed_rows(policy)
    start = {n: v.clone() for n, v in learner.trainable_state().items()}
    group = 4
    groups = list(range(len(rows) // group))[acc.process_index::acc.num_processes]  # whole groups per process
    mine = [k for g in groups for k in range(g * group, (g + 1) * group)]
    stats = [learner.grpo_step([rows[k] for k in mine], mu=2) for _ in range(2)]
    if acc.is_main_process:  # the gradient norm (before clipping) shows the gradient scale is the same
        end = learner.trainable_state()
        delta = torch.cat([(end[n] - start[n]).flatten() for n in sorted(end)])
        torch.save({"delta": delta, "stats": stats}, out)
    acc.wait_for_everyone()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
