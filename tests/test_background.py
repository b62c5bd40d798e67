"""`flowgate.background.in_background`: the one way the app runs its relay, indexer and
live-session checks beside the requests."""

from __future__ import annotations

import asyncio

import pytest

from flowgate.background import in_background


async def test_the_task_runs_for_the_block_and_is_stopped_and_awaited_at_its_end() -> None:
    # given
    started = asyncio.Event()
    ended: list[str] = []

    async def run() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            ended.append("cleaned up")

    # when
    async with in_background(run, name="test-task"):
        await asyncio.wait_for(started.wait(), timeout=10)
        running = [task.get_name() for task in asyncio.all_tasks()]
        # then: it runs under its name while the block does
        assert "test-task" in running
        assert ended == []

    # then: once the block is left, its cleanup has run and the task is gone
    assert ended == ["cleaned up"]
    assert "test-task" not in [task.get_name() for task in asyncio.all_tasks()]


async def test_a_task_that_failed_reports_its_error_when_the_block_ends() -> None:
    # given
    async def run() -> None:
        raise RuntimeError("the task broke")

    # when / then: the failure is not swallowed with the cancellation
    with pytest.raises(RuntimeError, match="the task broke"):
        async with in_background(run, name="failing-task"):
            await asyncio.sleep(0)
