"""Deadlines on the hot path: one sweep timer for every request's first-byte deadline."""

from __future__ import annotations

import asyncio
import time

import pytest

from proxy.upstream import Deadline, Sweeper, SweptDeadline


async def test_a_swept_deadline_times_out_at_most_a_tick_late() -> None:
    sweeper = Sweeper(asyncio.get_running_loop(), tick=0.02)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with SweptDeadline(0.1, sweeper):
            await asyncio.sleep(5)
    assert 0.1 <= time.monotonic() - started < 0.1 + 0.02 + 0.1


async def test_work_done_in_time_is_not_touched_and_the_sweep_stops() -> None:
    sweeper = Sweeper(asyncio.get_running_loop(), tick=0.01)
    async with SweptDeadline(0.05, sweeper):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # past the deadline: nothing fires
    assert sweeper._timer is None
    assert sweeper._due == {}


async def test_only_the_expired_deadline_fires() -> None:
    sweeper = Sweeper(asyncio.get_running_loop(), tick=0.01)

    async def wait(seconds: float, limit: float) -> str:
        try:
            async with SweptDeadline(limit, sweeper):
                await asyncio.sleep(seconds)
        except TimeoutError:
            return "timeout"
        return "done"

    results = await asyncio.gather(wait(0.3, 0.05), *(wait(0.05, 5) for _ in range(20)))
    assert results == ["timeout"] + ["done"] * 20


@pytest.mark.parametrize("kind", ["swept", "timer"])
async def test_a_cancellation_from_outside_stays_a_cancellation(kind: str) -> None:
    loop = asyncio.get_running_loop()
    sweeper = Sweeper(loop, tick=0.01)
    entered = asyncio.Event()

    async def guarded() -> None:
        deadline = SweptDeadline(5, sweeper) if kind == "swept" else Deadline(5, loop)
        async with deadline:
            entered.set()
            await asyncio.sleep(5)

    task = asyncio.create_task(guarded())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sweeper._due == {}
