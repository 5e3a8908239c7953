"""The run machinery shared by `reasongym.train` and `reasongym.reward train`: one copy of it.

    run.py          open_run (accelerator, run folder, resume, seeding, checkpoint cadence, Ctrl-C), load_resumed
    checkpoints.py  Checkpoints: atomic save (tmp + fsync + rename), latest() by stage order and step, pruning
    optim.py        lr_lambda (warm-up + constant / linear / cosine), accumulate, optimizer_step
    log.py          RunLog: JSONL files cut back to a checkpoint's row counts on resume; read_jsonl
    plots.py        the plots a user would show (held-out accuracy with intervals vs minutes, stages apart)
    progress.py     progress bars with an ETA from the mean step time; result lines (Wilson intervals)

Nothing is imported here, so `from reasongym.runs.log import read_jsonl` does not load torch.
"""
