"""The proxy's live state: config, keys, health, activity. Mutated on the event loop only."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from proxy.clock import Clock
from proxy.core.config import Config, Endpoint
from proxy.core.health import HEALTHY, Failure, Health, after_failure, after_success
from proxy.core.plan import ordered_endpoints, plan_attempts
from proxy.core.ratelimit import (
    MARKERS,
    Usage,
    anthropic_headers,
    failure_from_headers,
    unified_usage,
)
from proxy.core.status import Snapshot, snapshot
from proxy.core.thinking import Provenance, SignatureBook
from proxy.keys import ResolvedKeys
from proxy.metrics import Metrics
from proxy.wire import wire_for

log = logging.getLogger("ccf.proxy")
ACTIVITY_SIZE = 300
MAX_PATHS_KEPT = 64  # request paths whose accepting endpoints are remembered


@dataclass(frozen=True, slots=True)
class Activity:
    time: float
    method: str
    path: str
    model: str | None
    mapped_model: str | None
    endpoint: str | None
    status: int
    latency_ms: float
    attempts: str

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


# What a request leaves behind, as it is recorded: a tuple costs a sixth of an `Activity`.
# (wall time, method, path, model, mapped model, endpoint, status, latency in ms, attempts)
ActivityRow = tuple[float, str, str, str | None, str | None, str | None, int, float, list[str]]


class ActivityLog:
    """The last `size` requests: recorded as rows, read as `Activity`."""

    def __init__(self, size: int = ACTIVITY_SIZE) -> None:
        self._rows: deque[ActivityRow] = deque(maxlen=size)
        self.append = self._rows.append

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: int) -> Activity:
        return _activity(self._rows[index])

    def __iter__(self) -> Iterator[Activity]:
        return map(_activity, self._rows)


def _activity(row: ActivityRow) -> Activity:
    when, method, path, model, mapped_model, endpoint, status, latency_ms, attempts = row
    return Activity(
        when, method, path, model, mapped_model, endpoint, status, round(latency_ms, 1),
        ", ".join(attempts),
    )  # fmt: skip


SecretSink = Callable[[str], None]


def primary_provenance(config: Config, book: SignatureBook) -> Provenance:
    """Signatures the book does not know are taken as the first enabled endpoint's."""
    primary = next((e.signer for e in config.endpoints if e.enabled), "")
    return Provenance(primary, book)


class Runtime:
    def __init__(
        self,
        config: Config,
        keys: ResolvedKeys,
        clock: Clock,
        secret_sink: SecretSink | None = None,
    ) -> None:
        self._config = config
        self.ordered = ordered_endpoints(config)  # kept with the config it comes from
        self._accepting: dict[str, tuple[Endpoint, ...]] = {}  # per path: those that take it
        self.signatures = SignatureBook()
        self.provenance = primary_provenance(config, self.signatures)
        self.keys = keys
        self.clock = clock
        self.secret_sink = secret_sink
        self.health: dict[str, Health] = {}
        self.usage: dict[str, Usage] = {}  # what each endpoint last said of its rate limits
        self.metrics = Metrics()
        self.activity = ActivityLog()
        self.url = ""
        self.problem = ""  # what is wrong with the config file, while the last good one runs
        self._listeners: list[Callable[[], None]] = []
        self._publish_up()
        self._share_secrets()

    @property
    def config(self) -> Config:
        return self._config

    def _share_secrets(self) -> None:
        """Tell the log redactor every credential in use, so no log line can show one."""
        if self.secret_sink is None:
            return
        token = self.config.security.access_token
        for secret in [*self.keys.keys.values(), *([token] if token else [])]:
            self.secret_sink(secret.value)

    def subscribe(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def _changed(self) -> None:
        self._publish_up()
        for callback in self._listeners:
            try:
                callback()
            except Exception:
                log.exception("a state listener failed")

    def _publish_up(self) -> None:
        now = self.clock.monotonic()
        self.metrics.up = {
            e.name: self.health.get(e.name, HEALTHY).state(now) == "ok"
            for e in self.config.endpoints
        }

    def plan(self, path: str) -> tuple[Endpoint, ...]:
        """The endpoints a request to `path` tries, in order (see `plan_attempts`)."""
        accepting = self._accepting.get(path)
        if accepting is None:
            accepting = tuple(e for e in self.ordered if wire_for(e).accepts(path))
            if len(self._accepting) < MAX_PATHS_KEPT:
                self._accepting[path] = accepting
        now = self.clock.monotonic()
        return plan_attempts(self.config, self.health, now, ordered=accepting)

    def record_failure(self, name: str, failure: Failure, started: float) -> None:
        before = self.health.get(name, HEALTHY)
        now = self.clock.monotonic()
        after = after_failure(before, failure, now, self.config.failover, started)
        if after is not before:
            self.health = {**self.health, name: after}
            log.warning(
                "%s failed (%s); cooling down for %.0f s",
                name,
                failure.message,
                after.remaining(now),
            )
            self._changed()

    def note_rate_limits(self, name: str, headers: Mapping[str, str], started: float) -> None:
        """Keep the utilisation an answer reports; cool the endpoint down now when its
        headers say the limit is used up (before the 429 that would follow). `headers` is
        the answer's case-insensitive header map."""
        if not any(marker in headers for marker in MARKERS):
            return  # the usual answer of a non-Anthropic provider: nothing to read
        found = anthropic_headers(headers.items())
        usage = unified_usage(found)
        if usage is not None:
            self.usage[name] = usage
        failure = failure_from_headers(found, self.clock.wall())
        if failure is not None:
            self.record_failure(name, failure, started)

    def record_success(self, name: str, started: float) -> None:
        before = self.health.get(name)
        if before is None:  # healthy already: the usual case
            return
        after = after_success(before, started)
        if after is not before:  # recovered: healthy endpoints have no entry
            self.health = {n: h for n, h in self.health.items() if n != name}
            log.info("%s recovered", name)
            self._changed()

    def set_config(self, config: Config, keys: ResolvedKeys) -> None:
        """Swap in a validated config; requests in flight keep the one they started with."""
        names = {e.name for e in config.endpoints}
        self._config = config
        self.ordered = ordered_endpoints(config)
        self.provenance = primary_provenance(config, self.signatures)
        self._accepting = {}
        self.keys = keys
        self.health = {name: h for name, h in self.health.items() if name in names}
        self._share_secrets()
        self._changed()

    def set_problem(self, problem: str) -> None:
        """Say what is wrong with the config file ("" when nothing is)."""
        if problem != self.problem:
            self.problem = problem
            self._changed()

    def snapshot(self) -> Snapshot:
        now = self.clock.monotonic()
        return snapshot(
            self.config, self.health, now, self.url, problem=self.problem, usage=self.usage
        )
