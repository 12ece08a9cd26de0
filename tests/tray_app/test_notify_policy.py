"""Failover and recovery notices, at most one per endpoint per minute, none for user actions."""

from __future__ import annotations

from dataclasses import replace

from proxy.core.status import Snapshot
from tests.tray_app.tray_fakes import DEGRADED, DOWN, ERROR, OK, PAUSED, cooling, snap
from tray_app.notify_policy import RATE_LIMIT_SECONDS, Notice, NotifyState, decide


def run(snapshots: list[tuple[float, Snapshot]]) -> list[tuple[float, Notice]]:
    state = NotifyState()
    shown = []
    for now, s in snapshots:
        state, notice = decide(state, s, now)
        if notice is not None:
            shown.append((now, notice))
    return shown


def test_first_snapshot_is_silent_even_if_degraded() -> None:
    assert run([(0, DEGRADED)]) == []
    assert run([(0, OK)]) == []


def test_failover_and_recovery() -> None:
    shown = run([(0, OK), (1, DEGRADED), (100, OK)])
    assert shown == [
        (
            1,
            Notice("Failed over to openrouter", "Anthropic rate-limited, retry in 3 min."),
        ),
        (100, Notice("Back on anthropic", "The primary endpoint answers again.")),
    ]


def test_down_names_every_endpoint() -> None:
    shown = run([(0, OK), (1, DOWN)])
    assert len(shown) == 1
    assert shown[0][1].title == "No endpoint can serve"
    assert "Anthropic failing" in shown[0][1].message
    assert "no endpoint can serve" not in shown[0][1].message.lower()


def test_unchanged_serving_endpoint_is_not_repeated() -> None:
    degraded_later = snap({"anthropic": cooling(60, 429)})
    assert len(run([(0, OK), (1, DEGRADED), (2, degraded_later), (3, DEGRADED)])) == 1


def test_flapping_is_rate_limited_per_endpoint() -> None:
    timeline = [(0.0, OK)]
    for i in range(10):  # anthropic flaps every 5 s for 100 s
        timeline += [(1.0 + 10 * i, DEGRADED), (6.0 + 10 * i, OK)]
    shown = run(timeline)
    assert [(t, n.title) for t, n in shown] == [
        (1, "Failed over to openrouter"),
        (6, "Back on anthropic"),
        (61, "Failed over to openrouter"),
        (66, "Back on anthropic"),
    ]


def test_change_held_back_by_the_limit_is_announced_later() -> None:
    shown = run([(0, OK), (1, DEGRADED), (5, OK), (10, DEGRADED), (30, OK), (40, OK)])
    # recovery at 5 s is the first notice about anthropic: shown. The relapse at 10 s is
    # held (openrouter was announced at 1 s), then it recovered before the limit ended.
    assert [(t, n.title) for t, n in shown] == [
        (1, "Failed over to openrouter"),
        (5, "Back on anthropic"),
    ]

    shown = run([(0, OK), (1, DEGRADED), (5, OK), (10, DEGRADED), (50, DEGRADED), (61, DEGRADED)])
    assert [(t, n.title) for t, n in shown] == [
        (1, "Failed over to openrouter"),
        (5, "Back on anthropic"),
        (61, "Failed over to openrouter"),  # still degraded once the minute was over
    ]
    assert RATE_LIMIT_SECONDS == 60


def test_pinning_is_silent() -> None:
    assert run([(0, OK), (1, snap(pinned="openrouter")), (2, OK)]) == []


def test_pause_and_resume_are_silent() -> None:
    assert run([(0, OK), (1, PAUSED), (2, OK)]) == []


def test_failover_while_paused_is_silent_then_resume_is_silent() -> None:
    paused_primary_failing = snap({"anthropic": cooling(60)}, paused=True)
    assert run([(0, OK), (1, paused_primary_failing), (2, DEGRADED)]) == []


def test_a_problem_is_announced_once_with_what_to_do() -> None:
    shown = run([(0, OK), (1, ERROR), (2, ERROR), (3, OK)])
    assert shown == [
        (
            1,
            Notice(
                "Claude Code Fallback is not running",
                "Port 8765 on 127.0.0.1 is in use by another program. "
                "Choose another port from the tray menu.",
            ),
        )
    ]


def test_a_broken_config_file_is_announced() -> None:
    broken = replace(OK, problem="config.yaml line 3: endpoints[0].name is empty.")
    shown = run([(0, OK), (1, broken), (2, broken), (3, OK), (4, broken)])
    assert [(t, n.title) for t, n in shown] == [
        (1, "The config file has an error"),
        (4, "The config file has an error"),
    ]
    assert shown[0][1].message == broken.problem


def test_no_body_repeats_its_title() -> None:
    for now, notice in run([(0, OK), (1, DEGRADED), (100, OK), (200, DOWN)]):
        assert notice.title.lower() not in notice.message.lower(), (now, notice)


def test_state_is_immutable_between_calls() -> None:
    state, _ = decide(NotifyState(), OK, 0)
    after, notice = decide(state, DEGRADED, 1)
    assert notice is not None
    assert state.sent_at == {}
    assert after.sent_at == {"openrouter": 1}
