"""A live progress bar (rich) with the latest metrics beside it; silent on non-main processes and in CI logs
it degrades to one line per update."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress


class Progress:
    def __init__(self, total: int, title: str, enabled: bool = True):
        self.enabled, self.fields = enabled, {}
        if not enabled:
            return
        self.bar = RichProgress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}"))
        self.bar.start()
        self.task = self.bar.add_task(title, total=total, info="")

    def advance(self, n: int) -> None:
        if self.enabled and n:
            self.bar.update(self.task, advance=n)

    def update(self, n: int = 1, **values) -> None:
        if not self.enabled:
            return
        self.fields.update({k: v for k, v in values.items() if v is not None})
        info = "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in self.fields.items())
        self.bar.update(self.task, advance=n, info=info)

    def close(self) -> None:
        if self.enabled:
            self.bar.stop()
