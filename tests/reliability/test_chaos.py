"""Hundreds of concurrent streams while every provider misbehaves: nothing lost, nothing left."""

from __future__ import annotations

import os
import resource

import pytest

from tests.reliability.chaos import start_rig
from tests.reliability.figures import chaos_figures, save_figures
from tests.reliability.leaks import Usage, open_fds, other_tasks, settle
from tests.reliability.load import chaos_round

STREAMS = int(os.environ.get("CCF_CHAOS_STREAMS", "200"))


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


@pytest.mark.timeout(120)
async def test_chaos_streams_end_whole_or_cleanly_and_leave_nothing_behind() -> None:
    raise_fd_limit(8 * STREAMS + 1024)
    fds_before, tasks_before = open_fds(), other_tasks()
    rig = await start_rig(seed=20240601)
    result = await chaos_round(rig, STREAMS)
    figures = chaos_figures(result, rig)
    save_figures(f"chaos-{STREAMS}", figures)
    assert result.violations == [], result.violations[:5]
    assert figures["verdicts"].get("complete", 0) > STREAMS // 4
    assert result.left_connections == 0, "proxy connections left open"
    assert result.left_in_flight == 0
    assert result.left_upstream_acquired == 0, "upstream connections never released"
    assert result.rss_after <= result.rss_base * 1.10, figures
    assert result.blocks_after <= result.blocks_base * 1.10, figures
    await rig.stop()
    assert await settle(lambda: open_fds() <= fds_before), (open_fds(), fds_before)
    assert await settle(lambda: other_tasks() <= tasks_before), other_tasks() - tasks_before
    assert Usage.now().fds <= fds_before
