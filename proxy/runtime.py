"""The proxy's live state: config, keys, health, activity. Mutated on the event loop only."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from proxy.clock import Clock
from proxy.core.config import Config, Endpoint
from proxy.core.health import HEALTHY, Failure, Health, after_failure, after_success
from proxy.core.plan import ordered_endpoints, plan_attempts
from proxy.core.ratelimit import Usage
from proxy.core.redact import Redactor
from proxy.core.status import Snapshot, snapshot
from proxy.core.thinking import Provenance, SignatureBook
from proxy.core.usage import UsageToday
from proxy.formats import format_for
from proxy.keys import ResolvedKeys
from proxy.metrics import Metrics

log = logging.getLogger("ccf.proxy")
ACTIVITY_SIZE = 300
MAX_PATHS_KEPT = 64  # request paths whose accepting endpoints are remembered


@dataclass(frozen=True, slots=True)
class Activity:
    """What one proxied request left behind, for the activity view."""

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


ActivityLog = deque[Activity]  # the last requests, newest last


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
        self.redactor = Redactor()  # what every exit masks: see proxy.core.redact
        self.health: dict[str, Health] = {}
        self.ratelimits: dict[str, Usage] = {}  # what each endpoint last said of its rate limits
        self.metrics = Metrics()
        self.activity: ActivityLog = deque(maxlen=ACTIVITY_SIZE)
        self.url = ""
        self.problem = ""  # what is wrong with the config file, while the last good one runs
        self._listeners: list[Callable[[], None]] = []
        self.usage_today: Callable[[], UsageToday | None] = lambda: None  # set by the ledger
        self._publish_up()
        self._share_secrets()

    @property
    def config(self) -> Config:
        return self._config

    def _share_secrets(self) -> None:
        """Tell the redactors (ours, and the log's through the sink) every credential in use,
        so no answer and no log line can show one."""
        token = self.config.security.access_token
        for secret in [*self.keys.keys.values(), *([token] if token else [])]:
            self.redactor.add(secret.value)
            if self.secret_sink is not None:
                self.secret_sink(secret.value)

    def redact_failure(self, failure: Failure) -> Failure:
        """`failure` with any secret an upstream echoed into its message masked."""
        message = self.redactor.redact(failure.message)
        return failure if message == failure.message else replace(failure, message=message)

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
            accepting = tuple(e for e in self.ordered if format_for(e).accepts(path))
            if len(self._accepting) < MAX_PATHS_KEPT:
                self._accepting[path] = accepting
        now = self.clock.monotonic()
        return plan_attempts(self.config, self.health, now, ordered=accepting)

    def record_failure(self, name: str, failure: Failure, started: float) -> None:
        failure = self.redact_failure(failure)
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
        problem = self.redactor.redact(problem)
        if problem != self.problem:
            self.problem = problem
            self._changed()

    def usage_changed(self) -> None:
        """The usage ledger's figures or warning changed (see `proxy.ledger`)."""
        self._changed()

    def snapshot(self) -> Snapshot:
        now = self.clock.monotonic()
        keyless = frozenset(self.keys.problems)
        return snapshot(
            self.config, self.health, now, self.url, problem=self.problem, keyless=keyless,
            usage=self.usage_today(), ratelimits=self.ratelimits,
        )  # fmt: skip
