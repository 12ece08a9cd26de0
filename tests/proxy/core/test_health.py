"""Cooldown state: doubling to the cap, retry-after, auth errors, resets and stale news."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.config import Failover
from proxy.core.health import HEALTHY, Failure, Health, after_failure, after_success, cooldown_for

POLICY = Failover(cooldown_seconds=30, max_cooldown_seconds=1800)
OVERLOADED = Failure(reason="529", message="HTTP 529", status=529)
TIMEOUT = Failure(reason="timeout", message="no response headers within 90 s")


def rate_limited(retry_after: float | None) -> Failure:
    return Failure(reason="429", message="HTTP 429", status=429, retry_after=retry_after)


def fail(health: Health, failure: Failure, now: float, started: float | None = None) -> Health:
    return after_failure(health, failure, now, POLICY, now if started is None else started)


def test_a_new_endpoint_is_healthy() -> None:
    assert Health() == HEALTHY
    assert HEALTHY.state(0.0) == "ok"
    assert HEALTHY.remaining(0.0) == 0.0
    assert HEALTHY.failures == 0


def test_a_new_endpoint_is_ready_whatever_the_clock_reads() -> None:
    """`now` is data (a monotonic reading); nothing makes it non-negative."""
    assert HEALTHY.state(-1.0) == "ok"


def test_a_failure_cools_down_for_the_first_cooldown() -> None:
    health = fail(HEALTHY, OVERLOADED, now=100.0)
    assert health == Health(
        failures=1,
        cooling_until=130.0,
        auth_error=False,
        last_error="HTTP 529",
        last_status=529,
        failed_at=100.0,
    )
    assert health.state(100.0) == "cooling"
    assert health.state(129.999) == "cooling"
    assert health.remaining(110.0) == 20.0
    assert health.remaining(200.0) == 0.0


def test_half_open_when_the_cooldown_ends() -> None:
    health = fail(HEALTHY, TIMEOUT, now=100.0)
    assert health.state(130.0) == "ok"


def test_consecutive_failures_double_up_to_the_cap() -> None:
    health, now, cooldowns = HEALTHY, 0.0, []
    for _ in range(10):
        now = max(health.cooling_until, 0.0)  # each retry is the half-open attempt
        health = fail(health, OVERLOADED, now)
        cooldowns.append(health.cooling_until - now)
    assert cooldowns == [30, 60, 120, 240, 480, 960, 1800, 1800, 1800, 1800]
    assert health.failures == 10


@pytest.mark.parametrize(
    ("failures_before", "seconds"), [(0, 30), (1, 60), (5, 960), (6, 1800), (10**6, 1800)]
)
def test_cooldown_for_doubles_per_failure(failures_before: int, seconds: float) -> None:
    assert cooldown_for(OVERLOADED, failures_before, POLICY) == seconds


def test_zero_cooldown_never_cools() -> None:
    policy = Failover(cooldown_seconds=0, max_cooldown_seconds=0)
    health = after_failure(HEALTHY, OVERLOADED, 5.0, policy, 5.0)
    assert health.state(5.0) == "ok"
    assert health.failures == 1


@pytest.mark.parametrize(
    ("retry_after", "seconds"),
    [
        (180.0, 180.0),
        (0.0, 0.0),
        (-5.0, 0.0),
        (1800.0, 1800.0),
        (86400.0, 1800.0),
        (math.inf, 1800.0),
    ],
)
def test_retry_after_is_honoured_and_capped(retry_after: float, seconds: float) -> None:
    assert cooldown_for(rate_limited(retry_after), 3, POLICY) == seconds
    health = fail(HEALTHY, rate_limited(retry_after), now=1000.0)
    assert health.cooling_until == 1000.0 + seconds


def test_429_without_retry_after_doubles() -> None:
    assert cooldown_for(rate_limited(None), 2, POLICY) == 120


def test_retry_after_counts_only_for_429() -> None:
    overloaded = Failure(reason="529", message="HTTP 529", status=529, retry_after=5.0)
    assert cooldown_for(overloaded, 0, POLICY) == 30


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_mark_auth_error_for_the_cap(status: int) -> None:
    failure = Failure(reason="auth", message=f"HTTP {status}", status=status)
    assert failure.is_auth
    health = fail(HEALTHY, failure, now=10.0)
    assert health.auth_error
    assert health.cooling_until == 10.0 + 1800.0
    assert health.state(10.0) == "auth_error"
    assert health.state(1809.0) == "auth_error"
    assert health.state(1810.0) == "ok"  # half-open: the key may have been fixed


def test_a_later_non_auth_failure_clears_auth_error() -> None:
    health = fail(HEALTHY, Failure(reason="auth", message="HTTP 401", status=401), now=0.0)
    health = fail(health, OVERLOADED, now=1800.0)
    assert not health.auth_error
    assert health.state(1800.0) == "cooling"


@pytest.mark.parametrize("status", [None, 400, 429, 500])
def test_only_401_and_403_are_auth(status: int | None) -> None:
    assert not Failure(reason="x", message="x", status=status).is_auth


def test_success_resets() -> None:
    health = fail(fail(HEALTHY, OVERLOADED, now=0.0), OVERLOADED, now=30.0)
    assert health.failures == 2
    assert after_success(health, started=90.0) == HEALTHY
    assert after_success(HEALTHY, started=0.0) == HEALTHY


def test_after_a_reset_the_cooldown_starts_small_again() -> None:
    health = HEALTHY
    for now in (0.0, 30.0, 90.0):
        health = fail(health, OVERLOADED, now)
    health = after_success(health, started=500.0)
    health = fail(health, OVERLOADED, now=600.0)
    assert health.cooling_until == 630.0


def test_stale_failures_change_nothing() -> None:
    """A burst of concurrent failures counts once, not once per request in flight."""
    health = fail(HEALTHY, OVERLOADED, now=100.0, started=99.0)
    for started in (95.0, 99.0, 99.999, 100.0):
        assert fail(health, OVERLOADED, now=101.0, started=started) is health
        assert fail(health, rate_limited(9999.0), now=101.0, started=started) is health


def test_stale_success_changes_nothing() -> None:
    health = fail(HEALTHY, OVERLOADED, now=100.0, started=99.0)
    assert after_success(health, started=98.0) is health


def test_an_attempt_started_at_the_failure_instant_is_stale() -> None:
    health = fail(HEALTHY, OVERLOADED, now=100.0)
    assert fail(health, OVERLOADED, now=130.0, started=100.0) is health
    assert after_success(health, started=100.0) is health


def test_an_attempt_started_after_the_failure_counts() -> None:
    health = fail(HEALTHY, OVERLOADED, now=100.0)
    assert fail(health, OVERLOADED, now=130.0, started=100.001).failures == 2
    assert after_success(health, started=100.001) == HEALTHY


# ---------------------------------------------------------------- properties

FAILURES = st.builds(
    Failure,
    reason=st.just("x"),
    message=st.text(max_size=5),
    status=st.one_of(st.none(), st.sampled_from([401, 403, 404, 429, 500, 503, 529])),
    retry_after=st.one_of(st.none(), st.floats(min_value=-10, max_value=1e6)),
)
POLICIES = st.floats(min_value=0, max_value=1000).flatmap(
    lambda first: st.builds(
        Failover,
        cooldown_seconds=st.just(first),
        max_cooldown_seconds=st.floats(min_value=first, max_value=1e5),
    )
)


@settings(max_examples=200, deadline=None)
@given(FAILURES, st.integers(0, 100), POLICIES)
def test_cooldown_is_between_zero_and_the_cap(
    failure: Failure, failures_before: int, policy: Failover
) -> None:
    seconds = cooldown_for(failure, failures_before, policy)
    assert 0.0 <= seconds <= policy.max_cooldown_seconds
    if failure.is_auth:
        assert seconds == policy.max_cooldown_seconds


@settings(max_examples=200, deadline=None)
@given(st.lists(FAILURES, min_size=1, max_size=12), POLICIES)
def test_sequential_failures_count_and_never_shrink_the_doubling(
    failures: list[Failure], policy: Failover
) -> None:
    health, now = HEALTHY, 0.0
    for count, failure in enumerate(failures, start=1):
        now += 1.0
        health = after_failure(health, failure, now, policy, started=now)
        assert health.failures == count
        assert health.failed_at == now
        assert health.last_error == failure.message
        assert health.auth_error == failure.is_auth
        assert now <= health.cooling_until <= now + policy.max_cooldown_seconds
    assert after_success(health, started=now + 1.0) == HEALTHY
