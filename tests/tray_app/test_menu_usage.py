"""The tray's usage line, from the snapshot's `usage` (the ledger's figures for today)."""

from __future__ import annotations

from dataclasses import replace

from proxy.core.usage import UsageToday
from tests.tray_app.tray_fakes import OK
from tray_app import menu_model as m


def lines(usage: UsageToday | None) -> list[str]:
    menu = m.build_menu(replace(OK, usage=usage), autostart_enabled=False)
    return [e.text for e in menu if isinstance(e, m.Item) and not e.enabled]


def test_todays_line_under_the_status() -> None:
    shown = lines(UsageToday(requests=182, cost=4.1, rescued=3))
    assert shown[1] == "Today: 182 requests · $4.10 · 3 rescued"


def test_a_recording_problem_is_shown_with_what_was_lost() -> None:
    warning = "the disk is full; 12 requests not recorded"
    shown = lines(UsageToday(requests=1, warning=warning))
    assert shown[2] == f"Usage not recorded: {warning}"


def test_no_ledger_no_line() -> None:
    assert not any(text.startswith("Today") for text in lines(None))
