"""Snapshot → icon colour, tooltip and menu: every state, pin, pause, cooldown timers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from proxy.core.envsnippets import SHELLS
from proxy.core.ratelimit import Usage, Window
from proxy.core.status import Snapshot, snapshot
from tests.tray_app.tray_fakes import (
    DEGRADED,
    DOWN,
    ERROR,
    NOW,
    OK,
    PAUSED,
    PORT_IN_USE,
    STOPPED,
    URL,
    auth_error,
    config,
    cooling,
    snap,
)
from tray_app import menu_model as m


def build(s: Snapshot, autostart: bool = False, available: bool = True) -> tuple[m.Entry, ...]:
    return m.build_menu(s, autostart_enabled=autostart, autostart_available=available)


def item(entries: tuple[m.Entry, ...], text: str) -> m.Item:
    found = [e for e in entries if isinstance(e, m.Item) and e.text.startswith(text)]
    assert len(found) == 1, f"{text!r} in {[getattr(e, 'text', '-') for e in entries]}"
    return found[0]


def texts(entries: tuple[m.Entry, ...]) -> list[str]:
    return [e.text if isinstance(e, m.Item) else "---" for e in entries]


@pytest.mark.parametrize(
    ("snapshot", "colour"),
    [
        (OK, "green"),
        (DEGRADED, "amber"),
        (snap(pinned="openrouter"), "blue"),
        (snap({"openrouter": cooling(60)}, pinned="openrouter"), "green"),
        (snap({"anthropic": auth_error()}), "amber"),
        (DOWN, "red"),
        (ERROR, "red"),
        (PAUSED, "grey"),
        (snap({"anthropic": cooling(60)}, paused=True), "red"),
        (STOPPED, "grey"),
    ],
)
def test_icon_colour_per_state(snapshot: Snapshot, colour: str) -> None:
    assert m.icon_colour(snapshot) == colour


def test_colour_stays_amber_when_a_cooldown_ends_until_the_primary_served() -> None:
    health = {"anthropic": cooling(30)}
    assert m.icon_colour(snap(health, now=1000.0)) == "amber"
    assert m.icon_colour(snap(health, now=1030.0)) == "amber"  # no flap on every cycle
    assert m.icon_colour(snap({}, now=1030.0)) == "green"  # served: its entry is gone


@pytest.mark.parametrize(
    ("snapshot", "expected"),
    [
        (OK, "Claude Code Fallback — Serving via anthropic"),
        (
            DEGRADED,
            "Claude Code Fallback — Serving via openrouter — anthropic rate-limited, "
            "retry in 3 min",
        ),
        (
            snap(pinned="bedrock"),
            "Claude Code Fallback — Pinned: serving via bedrock (your choice)",
        ),
        (PAUSED, "Claude Code Fallback — Failover paused; anthropic only"),
        (STOPPED, "Claude Code Fallback — Proxy stopped"),
    ],
)
def test_tooltip_says_who_serves_and_why(snapshot: Snapshot, expected: str) -> None:
    assert m.tooltip(snapshot) == expected


def test_tooltip_fits_windows_limit_and_names_the_problem() -> None:
    tip = m.tooltip(ERROR)
    assert tip.startswith("Claude Code Fallback is not running — Port 8765")
    assert len(tip) <= m.TOOLTIP_MAX
    assert tip.endswith("…")
    assert len(m.tooltip(DOWN)) <= m.TOOLTIP_MAX


def test_down_tooltip_names_every_endpoint_wait() -> None:
    s = snap(
        {"anthropic": cooling(30), "openrouter": cooling(90)}, names=("anthropic", "openrouter")
    )
    assert m.tooltip(s) == (
        "Claude Code Fallback — No endpoint can serve: anthropic failing, retry in 30 s; "
        "openrouter failing, retry in 2 min"
    )


def test_menu_layout_when_running() -> None:
    assert texts(build(OK)) == [
        "Serving via anthropic",
        "---",
        "Endpoint",
        "Pause failover",
        "Copy environment variables",
        "---",
        "Settings…",
        "Open logs",
        "Start at login",
        "Stop using the proxy",
        "---",
        "Quit",
    ]
    status = build(OK)[0]
    assert isinstance(status, m.Item)
    assert status.command is None
    assert not status.enabled


def test_menu_commands() -> None:
    menu = build(OK, autostart=False)
    assert item(menu, "Settings…").command == m.OpenSettings()
    assert item(menu, "Settings…").default
    assert item(menu, "Open logs").command == m.OpenLogs()
    assert item(menu, "Start at login").command == m.SetAutostart(True)
    assert item(menu, "Start at login").checked is False
    assert item(menu, "Quit").command == m.Quit()
    assert item(menu, "Pause failover").command == m.SetPaused(True)
    assert item(menu, "Pause failover").checked is False


def test_start_at_login_checked_turns_off() -> None:
    entry = item(build(OK, autostart=True), "Start at login")
    assert entry.checked is True
    assert entry.command == m.SetAutostart(False)


def test_start_at_login_unavailable_is_insensitive() -> None:
    assert not item(build(OK, available=False), "Start at login").enabled


def test_pause_item_checked_when_paused_and_unpauses() -> None:
    entry = item(build(PAUSED), "Pause failover")
    assert entry.checked is True
    assert entry.command == m.SetPaused(False)
    assert build(PAUSED)[0].text == "Failover paused; anthropic only"  # type: ignore[union-attr]


def test_endpoint_submenu_automatic() -> None:
    sub = item(build(OK), "Endpoint").submenu
    assert texts(sub) == [
        "Automatic",
        "---",
        "anthropic (serving) — ready",
        "openrouter — ready",
        "bedrock — ready",
    ]
    automatic = item(sub, "Automatic")
    assert (automatic.command, automatic.checked, automatic.radio) == (m.Pin(None), True, True)
    for name in ("anthropic", "openrouter", "bedrock"):
        row = item(sub, name)
        assert (row.command, row.checked, row.radio) == (m.Pin(name), False, True)


def test_endpoint_submenu_pinned() -> None:
    sub = item(build(snap(pinned="openrouter")), "Endpoint").submenu
    assert item(sub, "Automatic").checked is False
    assert item(sub, "openrouter").checked is True
    assert item(sub, "openrouter").text == "openrouter (serving) — ready"
    assert item(sub, "anthropic").checked is False


def test_endpoint_rows_show_cooling_timers_and_errors() -> None:
    s = snap(
        {
            "anthropic": cooling(180, 429),
            "openrouter": cooling(45),
            "bedrock": auth_error(),
        },
        names=("anthropic", "openrouter", "bedrock", "local"),
        disabled=("local",),
    )
    sub = item(build(s), "Endpoint").submenu
    assert texts(sub)[2:] == [
        "anthropic — rate-limited, retry in 3 min",
        "openrouter — failing, retry in 45 s",
        "bedrock — key rejected",
        "local — disabled",
    ]
    assert not item(sub, "local").enabled
    assert item(sub, "bedrock").enabled


def test_cooling_timer_counts_down_between_snapshots() -> None:
    health = {"anthropic": cooling(90)}
    first = item(build(snap(health, now=1000.0)), "Endpoint").submenu
    later = item(build(snap(health, now=1060.0)), "Endpoint").submenu
    assert item(first, "anthropic").text == "anthropic — failing, retry in 2 min"
    assert item(later, "anthropic").text == "anthropic — failing, retry in 30 s"


def test_copy_environment_submenu() -> None:
    sub = item(build(OK), "Copy environment variables").submenu
    assert texts(sub) == [
        "bash / zsh",
        "fish",
        "PowerShell",
        "cmd",
        "Claude Code settings.json",
    ]
    assert [e.command for e in sub if isinstance(e, m.Item)] == [
        m.CopyEnv(shell) for shell, _ in SHELLS
    ]


def test_menu_when_proxy_failed_says_what_to_do_and_offers_restart() -> None:
    menu = build(ERROR)
    assert texts(menu)[:4] == [
        "Not running: port in use",
        "Port 8765 on 127.0.0.1 is in use by another program.",
        "Choose another port…",
        "Restart proxy",
    ]
    assert item(menu, "Choose another port…").command == m.OpenSettings("general")
    assert item(menu, "Restart proxy").command == m.RestartProxy()
    assert not item(menu, "Port 8765").enabled
    assert not item(menu, "Endpoint").enabled  # nothing to pin while it is down
    assert not item(menu, "Pause failover").enabled
    assert item(menu, "Copy environment variables").enabled
    assert PORT_IN_USE.startswith("Port 8765")


def test_menu_when_stopped_offers_restart() -> None:
    assert texts(build(STOPPED))[:2] == ["Proxy stopped", "Restart proxy"]


def test_no_restart_item_while_running() -> None:
    for s in (OK, DEGRADED, DOWN, PAUSED):
        assert "Restart proxy" not in texts(build(s))


def test_down_status_line_names_the_soonest_retry() -> None:
    s = snap(
        {"anthropic": cooling(300), "openrouter": cooling(90)}, names=("anthropic", "openrouter")
    )
    assert texts(build(s))[0] == "No endpoint can serve (next retry in 2 min)"
    assert texts(build(DOWN))[0] == "No endpoint can serve (next retry in 30 s)"


def test_long_status_line_is_shortened() -> None:
    s = snap(paused=True, names=("a" * 120,))
    status = build(s)[0]
    assert isinstance(status, m.Item)
    assert len(status.text) == m.STATUS_MAX
    assert status.text.endswith("…")


def test_views_compare_equal_when_nothing_changed() -> None:
    a = m.view(snap({"anthropic": cooling(600)}, now=1000.0), autostart_enabled=False)
    b = m.view(snap({"anthropic": cooling(600)}, now=1001.0), autostart_enabled=False)
    c = m.view(snap({"anthropic": cooling(600)}, now=1400.0), autostart_enabled=False)
    assert a == b  # "retry in 10 min" both times: no native menu rebuild
    assert a != c
    assert a.colour == "amber"


def test_problem_while_running_is_shown_without_restart() -> None:
    """A broken config file while the proxy runs on its last good config."""
    problem = "config.yaml line 4: endpoints[1].auth: 'token' is not allowed. Fix the file."
    s = replace(OK, problem=problem)
    assert texts(build(s))[:5] == [
        "Serving via anthropic",
        "The config file has an error (line 4)",
        "Running on the last good settings",
        "Show the config problem…",
        "---",
    ]
    assert item(build(s), "Show the config problem…").command == m.OpenSettings("problem")
    assert m.icon_colour(s) == "yellow"  # its own look: not the green of all-is-well
    assert m.tooltip(s).startswith("Claude Code Fallback — Serving via anthropic: config.yaml")


def test_each_state_has_its_own_look_and_honest_words() -> None:
    pinned = snap(pinned="openrouter")
    assert (m.icon_colour(pinned), texts(build(pinned))[0]) == (
        "blue",
        "Pinned: serving via openrouter (your choice)",
    )
    assert (m.icon_colour(DEGRADED), texts(build(DEGRADED))[0]) == (
        "amber",
        "Serving via openrouter — anthropic rate-limited, retry in 3 min",
    )
    paused_failing = snap({"anthropic": cooling(60)}, paused=True)
    assert m.icon_colour(paused_failing) == "red"
    assert texts(build(paused_failing))[0] == (
        "Failover paused and anthropic is failing, retry in 1 min: requests fail"
    )
    assert m.icon_colour(PAUSED) == "grey"
    down_with_bad_file = replace(DOWN, problem="config.yaml line 2: bad")
    assert m.icon_colour(down_with_bad_file) == "red"  # the outage matters more


def test_an_endpoint_without_a_key_says_so_not_ready() -> None:
    keyless = snapshot(config(), {}, NOW, URL, keyless=frozenset({"openrouter"}))
    menu = m.build_menu(keyless, autostart_enabled=False)
    sub = item(menu, "Endpoint").submenu
    assert item(sub, "openrouter").text == "openrouter — no key"
    assert item(sub, "bedrock").text == "bedrock — ready"
    # a primary without its key does not serve: a fallback does, and the menu says why
    primary_keyless = snapshot(config(), {}, NOW, URL, keyless=frozenset({"anthropic"}))
    assert m.headline(primary_keyless) == "Serving via openrouter — anthropic no key"


# ------------------------------------------------------------------ subscription utilisation

FRIDAY_14H = datetime(2026, 12, 4, 14, 0, tzinfo=UTC).timestamp()  # a Friday
TWO_PM_PARIS = datetime(2026, 12, 4, 13, 0, tzinfo=UTC).timestamp()


def with_usage(s: Snapshot, name: str, usage: Usage) -> Snapshot:
    rows = tuple(replace(e, usage=usage) if e.name == name else e for e in s.endpoints)
    return replace(s, endpoints=rows)


SUBSCRIPTION = Usage(
    status="allowed",
    reset=TWO_PM_PARIS,
    windows=(
        Window("5h", 0.42, TWO_PM_PARIS, "allowed"),
        Window("7d", 0.71, FRIDAY_14H + 7 * 86400, "allowed"),
    ),
)


def test_tooltip_shows_the_serving_subscriptions_windows_and_the_fullest_ones_reset() -> None:
    tip = m.tooltip(with_usage(OK, "anthropic", SUBSCRIPTION))
    assert tip == (
        "Claude Code Fallback — Serving via anthropic\n"
        "anthropic: 5h 42% · weekly 71% (resets Fri 14:00)"
    )


def test_reset_time_is_in_the_users_zone_and_hours_windows_need_no_weekday() -> None:
    paris = timezone(timedelta(hours=1))
    nearly_full = Usage("allowed_warning", None, (Window("5h", 0.9, TWO_PM_PARIS, "allowed"),))
    tip = m.tooltip(with_usage(OK, "anthropic", nearly_full), paris)
    assert tip.endswith("\nanthropic: 5h 90% (resets 14:00)")


def test_a_rejected_subscription_says_the_limit_is_reached_and_when_it_resets() -> None:
    rejected = Usage(
        "rejected",
        FRIDAY_14H,
        (Window("5h", 0.3, TWO_PM_PARIS, "allowed"), Window("7d", 1.0, FRIDAY_14H, "rejected")),
    )
    s = with_usage(snap({"anthropic": cooling(3600, 429)}), "anthropic", rejected)
    assert m.tooltip(s).endswith(
        "\nanthropic: limit reached · 5h 30% · weekly 100% (resets Fri 14:00)"
    )


def test_a_fallback_without_usage_shows_the_primarys_subscription() -> None:
    tip = m.tooltip(with_usage(DEGRADED, "anthropic", SUBSCRIPTION))
    assert tip.startswith("Claude Code Fallback — Serving via openrouter")
    assert "\nanthropic: 5h 42%" in tip


def test_no_usage_line_without_utilisation_or_when_stopped() -> None:
    silent = Usage("allowed", None, (Window("5h", None, None, None),))
    assert "\n" not in m.tooltip(with_usage(OK, "anthropic", silent))
    assert m.tooltip(with_usage(STOPPED, "anthropic", SUBSCRIPTION)) == (
        "Claude Code Fallback — Proxy stopped"
    )


def test_tooltip_with_usage_still_fits_windows_limit() -> None:
    many = Usage(
        "allowed",
        None,
        tuple(Window(f"7d_model{i}", 0.5, FRIDAY_14H, None) for i in range(8)),
    )
    s = replace(with_usage(DOWN, "anthropic", many), problem="x" * 200)
    tip = m.tooltip(s)
    assert len(tip) <= m.TOOLTIP_MAX
    head, line = tip.split("\n")
    assert len(head) >= m.USAGE_ROOM
    assert line.startswith("anthropic: weekly model0 50%")


def test_window_labels() -> None:
    assert [m.window_label(n) for n in ("5h", "7d", "7d_opus", "1h")] == [
        "5h",
        "weekly",
        "weekly opus",
        "1h",
    ]
