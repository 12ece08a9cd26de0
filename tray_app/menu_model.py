"""Pure mapping from a state snapshot to what the tray shows: icon colour, tooltip, menu.

The menu is a tree of frozen `Item`s; each clickable item carries the `Command` it sends.
`tray_app.tray` turns the tree into a pystray menu and `tray_app.actions` runs commands, so
everything the user can see or do is decided (and unit-tested) here without a display.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal

from proxy import PRODUCT_NAME
from proxy.core.envsnippets import SHELLS, Shell
from proxy.core.ratelimit import Usage, Window
from proxy.core.status import EndpointStatus, Snapshot, describe_wait, endpoint_words
from proxy.core.usage import today_line

APP_NAME = PRODUCT_NAME
# green: the primary serves; amber: a fallback serves because the primary fails; blue: the
# endpoint the user pinned serves; red: nothing can serve (or the proxy is not running);
# yellow: it serves, but the config file has an error; grey: paused or stopped.
IconColour = Literal["green", "amber", "blue", "red", "yellow", "grey"]

TOOLTIP_MAX = 127  # Windows keeps 128 UTF-16 units including the terminator
STATUS_MAX = 90  # a menu line; the tooltip and Endpoint submenu carry the full text

_COLOURS: dict[str, IconColour] = {
    "ok": "green",
    "degraded": "amber",
    "down": "red",
    "error": "red",
    "paused": "grey",
    "stopped": "grey",
}


# ------------------------------------------------------------------ commands


@dataclass(frozen=True, slots=True)
class Pin:
    """Pin an endpoint (`None`: automatic order)."""

    name: str | None


@dataclass(frozen=True, slots=True)
class SetPaused:
    paused: bool


@dataclass(frozen=True, slots=True)
class CopyEnv:
    shell: Shell


@dataclass(frozen=True, slots=True)
class OpenSettings:
    """Open (or bring forward) the settings window; `section` is the page to show."""

    section: str = ""


@dataclass(frozen=True, slots=True)
class OpenLogs:
    pass


@dataclass(frozen=True, slots=True)
class SetAutostart:
    enabled: bool


@dataclass(frozen=True, slots=True)
class RestartProxy:
    pass


@dataclass(frozen=True, slots=True)
class StopUsing:
    """Give Claude Code's settings.json back what it said before the app wrote to it."""


@dataclass(frozen=True, slots=True)
class Quit:
    pass


Command = (
    Pin
    | SetPaused
    | CopyEnv
    | OpenSettings
    | OpenLogs
    | SetAutostart
    | RestartProxy
    | StopUsing
    | Quit
)


# ------------------------------------------------------------------ menu tree


@dataclass(frozen=True, slots=True)
class Separator:
    pass


SEPARATOR = Separator()


@dataclass(frozen=True, slots=True)
class Item:
    """One menu entry. No command and no submenu: an information line (shown insensitive)."""

    text: str
    command: Command | None = None
    checked: bool | None = None  # None: not a check item
    radio: bool = False
    enabled: bool = True
    default: bool = False
    submenu: tuple[Entry, ...] = ()


Entry = Item | Separator


# ------------------------------------------------------------------ texts


def _serving_row(snap: Snapshot) -> EndpointStatus | None:
    return next((row for row in snap.endpoints if row.name == snap.serving), None)


def paused_while_failing(snap: Snapshot) -> bool:
    """Paused, and the one endpoint that paused routing tries is failing: requests fail."""
    row = _serving_row(snap)
    return snap.overall == "paused" and row is not None and row.state != "ok"


def pinned_by_choice(snap: Snapshot) -> bool:
    """A fallback serves because the user pinned it, not because the primary fails."""
    row = _serving_row(snap)
    return snap.overall == "degraded" and row is not None and row.pinned


def config_broken(snap: Snapshot) -> bool:
    """The proxy runs on its last good settings; the config file has an error."""
    return bool(snap.problem) and snap.overall not in ("error", "stopped")


def port_blocked(snap: Snapshot) -> bool:
    return snap.overall == "error" and "in use" in snap.problem


def icon_colour(snap: Snapshot) -> IconColour:
    if snap.overall in ("down", "error") or paused_while_failing(snap):
        return "red"
    if config_broken(snap):
        return "yellow"
    if pinned_by_choice(snap):
        return "blue"
    return _COLOURS[snap.overall]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _not_running(snap: Snapshot) -> str:
    if snap.overall == "stopped":
        return "Proxy stopped"
    return "Not running: port in use" if port_blocked(snap) else "Proxy not running"


def headline(snap: Snapshot) -> str:
    """One short line: who serves and why, or what is wrong."""
    if snap.overall in ("error", "stopped"):
        return _not_running(snap)
    if snap.overall == "down":
        waits = [e.retry_in for e in snap.endpoints if e.enabled and e.retry_in > 0]
        soonest = f" (next retry in {describe_wait(min(waits))})" if waits else ""
        return f"No endpoint can serve{soonest}"
    if paused_while_failing(snap):
        row = _serving_row(snap)
        words = endpoint_words(row) if row else "failing"
        return f"Failover paused and {snap.serving} is {words}: requests fail"
    if pinned_by_choice(snap):
        return f"Pinned: serving via {snap.serving} (your choice)"
    if snap.overall in ("ok", "degraded") and snap.reason.startswith("via "):
        return f"Serving {snap.reason}"
    return _sentence(snap.reason)


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WINDOW_WORDS = {"5h": "5h", "7d": "weekly"}
USAGE_ROOM = 60  # the status line keeps at least this much of the tooltip


def window_label(name: str) -> str:
    """`5h` -> "5h", `7d` -> "weekly", `7d_opus` -> "weekly opus"."""
    base, _, model = name.partition("_")
    words = _WINDOW_WORDS.get(base, base)
    return f"{words} {model}" if model else words


def reset_words(when: float, tz: tzinfo, *, weekday: bool) -> str:
    """A reset time in the user's zone: "14:00", or "Fri 14:00" when it may be days away."""
    local = datetime.fromtimestamp(when, tz)
    day = f"{_WEEKDAYS[local.weekday()]} " if weekday else ""
    return f"{day}{local:%H:%M}"


def _binding_reset(usage: Usage) -> tuple[float, bool] | None:
    """The reset that matters (the rejected limit's, else the fullest window's) and whether
    it may be days away (not an hours window)."""
    windows = [w for w in usage.windows if w.reset is not None]
    if usage.status == "rejected" and usage.reset is not None:
        same = [w for w in windows if w.reset == usage.reset]
        return usage.reset, not (same and all(w.name.endswith("h") for w in same))
    if not windows:
        return None
    fullest = max(windows, key=lambda w: w.utilization or 0.0)
    assert fullest.reset is not None
    return fullest.reset, not fullest.name.endswith("h")


def _window_part(window: Window) -> str:
    assert window.utilization is not None
    return f"{window_label(window.name)} {round(window.utilization * 100)}%"


def usage_line(name: str, usage: Usage, tz: tzinfo) -> str:
    """ "anthropic: 5h 42% · weekly 71% (resets Fri 14:00)"; "" when it says nothing."""
    parts = [_window_part(w) for w in usage.windows if w.utilization is not None]
    if usage.status == "rejected":
        parts.insert(0, "limit reached")
    if not parts:
        return ""
    reset = _binding_reset(usage)
    when = f" (resets {reset_words(reset[0], tz, weekday=reset[1])})" if reset else ""
    return f"{name}: {' · '.join(parts)}{when}"


def _usage_row(snap: Snapshot) -> EndpointStatus | None:
    """The endpoint whose subscription the tooltip shows: the serving one, else the primary."""
    row = _serving_row(snap)
    if row is None or row.usage is None:
        row = next((e for e in snap.endpoints if e.primary), None)
    return row if row is not None and row.usage is not None else None


def _detail(snap: Snapshot) -> str:
    if snap.problem:
        return f"{headline(snap)}: {snap.problem}"
    if snap.overall == "down":
        return _sentence(snap.reason)  # every endpoint and its wait
    return headline(snap)


def tooltip(snap: Snapshot, tz: tzinfo = UTC) -> str:
    """The status line, and under it the subscription's utilisation when it is known.
    `tz`: the user's time zone, for the reset time."""
    if snap.overall == "error":
        return _shorten(f"{APP_NAME} is not running — {snap.problem}", TOOLTIP_MAX)
    head = f"{APP_NAME} — {_detail(snap)}"
    row = _usage_row(snap) if snap.overall != "stopped" else None
    line = usage_line(row.name, row.usage, tz) if row and row.usage else ""
    if not line:
        return _shorten(head, TOOLTIP_MAX)
    line = _shorten(line, TOOLTIP_MAX - USAGE_ROOM - 1)
    return f"{_shorten(head, TOOLTIP_MAX - len(line) - 1)}\n{line}"


def _problem_lines(problem: str) -> tuple[Item, ...]:
    sentences = [s.strip() for s in problem.replace(". ", ".\n").splitlines() if s.strip()]
    return tuple(Item(_shorten(s, STATUS_MAX), enabled=False) for s in sentences)


def _endpoint_menu(snap: Snapshot) -> tuple[Entry, ...]:
    rows: list[Entry] = [
        Item("Automatic", Pin(None), checked=snap.pinned is None, radio=True),
        SEPARATOR,
    ]
    for row in snap.endpoints:
        serving = " (serving)" if row.name == snap.serving else ""
        rows.append(
            Item(
                f"{row.name}{serving} — {endpoint_words(row)}",
                Pin(row.name),
                checked=row.pinned,
                radio=True,
                enabled=row.enabled,
            )
        )
    return tuple(rows)


def _usage_lines(snap: Snapshot) -> tuple[Item, ...]:
    """The line "Today: 182 requests · $4.10 · 3 rescued", and why usage is not recorded."""
    if snap.usage is None:
        return ()
    lines = [Item(today_line(snap.usage), enabled=False)]
    if snap.usage.warning:
        lines.append(Item(_shorten(f"Usage not recorded: {snap.usage.warning}", STATUS_MAX),
                          enabled=False))  # fmt: skip
    return tuple(lines)


def _env_menu() -> tuple[Entry, ...]:
    return tuple(Item(label, CopyEnv(shell)) for shell, label in SHELLS)


def _problem_summary(snap: Snapshot) -> tuple[Item, ...]:
    """What is wrong, in lines that fit a menu: the fix is the item below them."""
    lines = _problem_lines(snap.problem)
    if port_blocked(snap):
        return lines[:1]  # the advice after it names command-line options
    if config_broken(snap):
        line = re.search(r" line (\d+)", snap.problem)
        where = f" (line {line.group(1)})" if line else ""
        return (
            Item(f"The config file has an error{where}", enabled=False),
            Item("Running on the last good settings", enabled=False),
        )
    return lines


def _fixes(snap: Snapshot) -> list[Entry]:
    """What the user can do about the problem, one click each."""
    fixes: list[Entry] = []
    if port_blocked(snap):
        fixes.append(Item("Choose another port…", OpenSettings("general")))
    elif config_broken(snap):
        fixes.append(Item("Show the config problem…", OpenSettings("problem")))
    if snap.overall in ("error", "stopped"):
        fixes.append(Item("Restart proxy", RestartProxy()))
    return fixes


def build_menu(
    snap: Snapshot,
    *,
    autostart_enabled: bool,
    autostart_available: bool = True,
) -> tuple[Entry, ...]:
    """The whole tray menu for `snap`, top to bottom."""
    status: list[Entry] = [Item(_shorten(headline(snap), STATUS_MAX), enabled=False)]
    # What is wrong and what to do: why the proxy is not running, or (while it runs on its
    # last good config) what is wrong with the config file.
    status += _problem_summary(snap)
    status += _fixes(snap)
    status += _usage_lines(snap)  # the usage ledger's line (proxy/ledger)
    has_endpoints = bool(snap.endpoints)
    return (
        *status,
        SEPARATOR,
        Item("Endpoint", submenu=_endpoint_menu(snap), enabled=has_endpoints),
        Item(
            "Pause failover",
            SetPaused(not snap.paused),
            checked=snap.paused,
            enabled=has_endpoints,
        ),
        Item("Copy environment variables", submenu=_env_menu()),
        SEPARATOR,
        Item("Settings…", OpenSettings(), default=True),
        Item("Open logs", OpenLogs()),
        Item(
            "Start at login",
            SetAutostart(not autostart_enabled),
            checked=autostart_enabled,
            enabled=autostart_available,
        ),
        Item("Stop using the proxy", StopUsing()),
        SEPARATOR,
        Item("Quit", Quit()),
    )


@dataclass(frozen=True, slots=True)
class TrayView:
    """Everything the tray shows for one snapshot; equal views need no native update."""

    colour: IconColour
    tooltip: str
    menu: tuple[Entry, ...]


def view(
    snap: Snapshot,
    *,
    autostart_enabled: bool,
    autostart_available: bool = True,
    tz: tzinfo = UTC,
) -> TrayView:
    return TrayView(
        colour=icon_colour(snap),
        tooltip=tooltip(snap, tz),
        menu=build_menu(
            snap,
            autostart_enabled=autostart_enabled,
            autostart_available=autostart_available,
        ),
    )
