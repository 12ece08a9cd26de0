"""Pure mapping from a state snapshot to what the tray shows: icon colour, tooltip, menu.

The menu is a tree of frozen `Item`s; each clickable item carries the `Command` it sends.
`tray_app.tray` turns the tree into a pystray menu and `tray_app.actions` runs commands, so
everything the user can see or do is decided (and unit-tested) here without a display.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from proxy.core.status import Snapshot, describe_wait, endpoint_words
from proxy.core.usage import today_line
from tray_app.envvars import SHELLS, Shell

APP_NAME = "Claude Code Fallback"
IconColour = Literal["green", "amber", "red", "grey"]

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
    pass


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
class Quit:
    pass


Command = Pin | SetPaused | CopyEnv | OpenSettings | OpenLogs | SetAutostart | RestartProxy | Quit


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


def icon_colour(snap: Snapshot) -> IconColour:
    return _COLOURS[snap.overall]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def headline(snap: Snapshot) -> str:
    """One short line: who serves and why, or what is wrong."""
    if snap.overall == "error":
        return "Proxy not running"
    if snap.overall == "stopped":
        return "Proxy stopped"
    if snap.overall == "down":
        waits = [e.retry_in for e in snap.endpoints if e.enabled and e.retry_in > 0]
        soonest = f" (next retry in {describe_wait(min(waits))})" if waits else ""
        return f"No endpoint can serve{soonest}"
    if snap.overall in ("ok", "degraded") and snap.reason.startswith("via "):
        return f"Serving {snap.reason}"
    return _sentence(snap.reason)


def tooltip(snap: Snapshot) -> str:
    if snap.problem:
        detail = f"{headline(snap)}: {snap.problem}"
    elif snap.overall == "down":
        detail = _sentence(snap.reason)  # every endpoint and its wait
    else:
        detail = headline(snap)
    return _shorten(f"{APP_NAME} — {detail}", TOOLTIP_MAX)


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


def build_menu(
    snap: Snapshot, *, autostart_enabled: bool, autostart_available: bool = True
) -> tuple[Entry, ...]:
    """The whole tray menu for `snap`, top to bottom."""
    running = snap.overall not in ("error", "stopped")
    status: list[Entry] = [Item(_shorten(headline(snap), STATUS_MAX), enabled=False)]
    # What is wrong and what to do: why the proxy is not running, or (while it runs on its
    # last good config) what is wrong with the config file.
    status += _problem_lines(snap.problem)
    if not running:
        status.append(Item("Restart proxy", RestartProxy()))
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
        SEPARATOR,
        Item("Quit", Quit()),
    )


@dataclass(frozen=True, slots=True)
class TrayView:
    """Everything the tray shows for one snapshot; equal views need no native update."""

    colour: IconColour
    tooltip: str
    menu: tuple[Entry, ...]


def view(snap: Snapshot, *, autostart_enabled: bool, autostart_available: bool = True) -> TrayView:
    return TrayView(
        colour=icon_colour(snap),
        tooltip=tooltip(snap),
        menu=build_menu(
            snap, autostart_enabled=autostart_enabled, autostart_available=autostart_available
        ),
    )
