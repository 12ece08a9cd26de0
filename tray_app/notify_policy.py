"""When to raise a desktop notification: pure, `now` passed in.

The policy compares each snapshot with what was last *announced* rather than with the
previous snapshot, so a change that falls inside the rate limit is not lost: it is
announced on a later snapshot once the limit allows, if it still holds by then.

- Failover (a fallback now serves), down (nothing can serve) and recovery (the primary
  serves again) are announced; the subject of a notice is the endpoint now serving (or
  "nothing"), and each subject is announced at most once per `RATE_LIMIT_SECONDS`.
- Changes the user made (pinning, pausing) and the first snapshot are taken silently.
- Paused, stopped and error snapshots are not announced here: the icon and the menu show them.
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
    sent_at: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


def _notice(snap: Snapshot) -> Notice:
    if snap.serving is None:
        return Notice("No endpoint can serve", snap.reason)
    if snap.overall == "ok":
        return Notice(f"Back on {snap.serving}", snap.reason)
    return Notice(f"Failed over to {snap.serving}", snap.reason)


def _silently(state: NotifyState, snap: Snapshot) -> NotifyState:
    return NotifyState(True, snap.serving, snap.pinned, snap.paused, state.sent_at)


def decide(state: NotifyState, snap: Snapshot, now: float) -> tuple[NotifyState, Notice | None]:
    """The next policy state and the notice to show for `snap`, if any."""
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
    return NotifyState(True, snap.serving, snap.pinned, snap.paused, sent), _notice(snap)
