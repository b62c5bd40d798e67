"""Progress bars, one per phase, on the caller's console; nothing at all without one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Phase:
    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress = progress
        self._task = task

    def advance(self, amount: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)


class SeedProgress:
    def __init__(self, console: Console | None) -> None:
        self._progress = (
            None
            if console is None
            else Progress(
                TextColumn("{task.description:<24}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )
        )

    @contextlib.contextmanager
    def running(self) -> Iterator[SeedProgress]:
        if self._progress is None:
            yield self
            return
        with self._progress:
            yield self

    def phase(self, description: str, total: int) -> Phase:
        if self._progress is None:
            return Phase(None, None)
        return Phase(self._progress, self._progress.add_task(description, total=total))
