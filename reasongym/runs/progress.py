"""Live progress bars (rich) with an honest ETA, and the result lines a run prints.

    bar = Progress(60, "GRPO", done=40)      # a resumed stage starts at 40/60
    bar.update(1, reward=0.41)                # ETA = mean step time of this session x steps left
    bar.close()
    print(accuracy_line("after GRPO step 10", 0.365, 200, since=0.085))

rich's own TimeRemainingColumn estimates speed over a 30 s window: with 40-170 s steps it never has two
samples and shows -:--:--. `MeanETAColumn` divides the time since the bar (re)started by the steps done
since, so the ETA appears after the first step and steadies as the run goes. Silent on non-main
processes (enabled=False); in a log file rich degrades to plain lines. Tests: tests/test_runs_log.py.
"""

from __future__ import annotations

import math
import time

from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.text import Text


def wilson(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion p measured on n trials ((p, p) when n is 0)."""
    if n <= 0:
        return p, p
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_line(what: str, acc: float, n: int, since: float | None = None, since_name: str = "cold start") -> str:
    lo, hi = wilson(acc, n)
    line = f"held-out accuracy {what}: {100 * acc:.1f}% [95% CI {100 * lo:.1f}, {100 * hi:.1f}] on {n} tasks"
    if since is not None:
        line += f" ({100 * (acc - since):+.1f} points since the {since_name})"
    return line


def eta_seconds(done: int, total: int, elapsed: float) -> float | None:
    """Steps left x mean step time so far (None before the first step)."""
    return None if done <= 0 else (total - done) * elapsed / done


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "ETA -:--:--"
    s = int(seconds)
    return f"ETA {s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class MeanETAColumn(ProgressColumn):
    """ETA from the mean step time since the bar started (fields `t0` and `done0` of the task)."""

    def render(self, task) -> Text:
        done = task.completed - task.fields.get("done0", 0)
        left = eta_seconds(int(done), int((task.total or 0) - task.fields.get("done0", 0)),
                           time.time() - task.fields.get("t0", time.time()))
        return Text(clock(left), style="progress.remaining")


class Progress:
    def __init__(self, total: int, title: str, enabled: bool = True, done: int = 0, transient: bool = False):
        self.enabled, self.fields = enabled and total > 0, {}
        if not self.enabled:
            return
        self.bar = RichProgress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), MeanETAColumn(), TextColumn("{task.fields[info]}"),
                                transient=transient)
        self.bar.start()
        self.task = self.bar.add_task(title, total=total, completed=done, info="", t0=time.time(), done0=done)

    def advance(self, n: int) -> None:
        """Count steps done before this session (they do not enter the mean step time)."""
        if self.enabled and n:
            self.bar.update(self.task, advance=n, done0=self.bar.tasks[0].fields["done0"] + n)

    def update(self, n: int = 1, **values) -> None:
        if not self.enabled:
            return
        self.fields.update({k: v for k, v in values.items() if v is not None})
        info = "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in self.fields.items())
        self.bar.update(self.task, advance=n, info=info)

    def print(self, line: str) -> None:
        """A line above the live bar (or plain print when the bar is off)."""
        if self.enabled:
            self.bar.console.print(line, markup=False, highlight=False)
        else:
            print(line)

    def close(self) -> None:
        if self.enabled:
            self.bar.stop()
