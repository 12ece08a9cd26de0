"""When to raise a desktop notification: pure, `now` passed in.

The policy compares each snapshot with what was last *announced* rather than with the
previous snapshot, so a change that falls inside the rate limit is not lost: it is
announced on a later snapshot once the limit allows, if it still holds by then.

- Failover (a fallback now serves), down (nothing can serve) and recovery (the primary
  serves again) are announced; the subject of a notice is the endpoint now serving (or
  "nothing"), and each subject is announced at most once per `RATE_LIMIT_SECONDS`.
- Changes the user made (pinning, pausing) and the first snapshot are taken silently.
- Paused and stopped snapshots are not announced here: the icon and the menu show them.
- A problem (the proxy could not start, or the config file has an error) is announced once
  when it appears or changes; its notice says what is wrong and what to do.
- A notice's body never repeats its title: the title says what happened, the body why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from proxy.core.status import Snapshot

RATE_LIMIT_SECONDS = 60.0
_NOTHING = ""  # the subject of a "nothing can serve" notice
_LIVE = ("ok", "degraded", "down")


@dataclass(frozen=True, slots=True)
class Notice:
    title: str
    message: str


@dataclass(frozen=True, slots=True)
class NotifyState:
    started: bool = False
    announced: str | None = None  # who was serving at the last announcement
    pinned: str | None = None
    paused: bool = False
    problem: str = ""  # the last problem announced
    sent_at: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


def _why(snap: Snapshot) -> str:
    """The reason without the part the title already says ("via X — ", "no endpoint…: ")."""
    reason = snap.reason
    for head in ("no endpoint can serve: ", f"via {snap.serving} — "):
        reason = reason.removeprefix(head)
    return reason[:1].upper() + reason[1:]


def _notice(snap: Snapshot) -> Notice:
    if snap.serving is None:
        return Notice("No endpoint can serve", _why(snap) + ". Requests fail until one recovers.")
    if snap.overall == "ok":
        return Notice(f"Back on {snap.serving}", "The primary endpoint answers again.")
    if snap.reason == f"via {snap.serving}":
        return Notice(f"Failed over to {snap.serving}", "The endpoints before it cannot serve.")
    return Notice(f"Failed over to {snap.serving}", _why(snap) + ".")


def problem_notice(snap: Snapshot) -> Notice:
    if snap.overall == "error" and "in use" in snap.problem:
        what = snap.problem.split(". ")[0].rstrip(".")
        return Notice(
            "Claude Code Fallback is not running",
            f"{what}. Choose another port from the tray menu.",
        )
    if snap.overall == "error":
        return Notice("Claude Code Fallback is not running", snap.problem)
    return Notice("The config file has an error", snap.problem)


def _silently(state: NotifyState, snap: Snapshot) -> NotifyState:
    return NotifyState(True, snap.serving, snap.pinned, snap.paused, state.problem, state.sent_at)


def decide(state: NotifyState, snap: Snapshot, now: float) -> tuple[NotifyState, Notice | None]:
    """The next policy state and the notice to show for `snap`, if any."""
    if snap.problem != state.problem:
        announce = problem_notice(snap) if snap.problem else None
        seen = replace(state, problem=snap.problem, pinned=snap.pinned, paused=snap.paused)
        return seen, announce
    if snap.overall not in _LIVE:  # remember the user's pause so resuming stays silent
        return replace(state, pinned=snap.pinned, paused=snap.paused), None
    user_changed = snap.pinned != state.pinned or snap.paused != state.paused
    if not state.started or user_changed:
        return _silently(state, snap), None
    if snap.serving == state.announced:
        return state, None
    subject = snap.serving or _NOTHING
    last = state.sent_at.get(subject)
    if last is not None and now - last < RATE_LIMIT_SECONDS:
        return state, None
    sent = MappingProxyType({**state.sent_at, subject: now})
    announced = NotifyState(True, snap.serving, snap.pinned, snap.paused, state.problem, sent)
    return announced, _notice(snap)
