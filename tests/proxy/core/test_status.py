"""The status snapshot: overall state, who serves, and the reason in words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.classify import failure_from_sse_error, failure_from_status
from proxy.core.config import Config, Endpoint, Failover, Routing
from proxy.core.health import HEALTHY, Failure, Health, after_failure
from proxy.core.plan import plan_attempts
from proxy.core.status import EndpointStatus, describe_wait, endpoint_statuses, snapshot, stopped

URL = "http://127.0.0.1:8765"
NOW = 1000.0
ANTHROPIC = Endpoint(name="anthropic", base_url="https://api.anthropic.com")
ROUTER = Endpoint(name="openrouter", base_url="https://openrouter.ai/api", auth="bearer")
GROQ = Endpoint(name="groq", base_url="https://groq.example", auth="bearer")
CONFIG = Config(endpoints=(ANTHROPIC, ROUTER, GROQ))


def failed(failure: Failure, at: float = NOW, health: Health = HEALTHY) -> Health:
    return after_failure(health, failure, at, Failover(), started=at)


RATE_LIMITED = failed(failure_from_status(429, "180", 0.0))
OVERLOADED = failed(failure_from_status(529, None, 0.0))
KEY_REJECTED = failed(failure_from_status(401, None, 0.0))


def reason(
    config: Config, health: dict[str, Health], now: float = NOW
) -> tuple[str, str | None, str]:
    snap = snapshot(config, health, now, URL)
    return snap.overall, snap.serving, snap.reason


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        ({}, ("ok", "anthropic", "via anthropic")),
        (
            {"anthropic": RATE_LIMITED},
            ("degraded", "openrouter", "via openrouter — anthropic rate-limited, retry in 3 min"),
        ),
        (
            {"anthropic": OVERLOADED},
            ("degraded", "openrouter", "via openrouter — anthropic failing, retry in 30 s"),
        ),
        (
            {"anthropic": KEY_REJECTED},
            ("degraded", "openrouter", "via openrouter — anthropic key rejected"),
        ),
        (
            {"anthropic": RATE_LIMITED, "openrouter": KEY_REJECTED},
            (
                "degraded",
                "groq",
                "via groq — anthropic rate-limited, retry in 3 min; openrouter key rejected",
            ),
        ),
        (
            {"anthropic": RATE_LIMITED, "openrouter": OVERLOADED, "groq": KEY_REJECTED},
            (
                "down",
                None,
                "no endpoint can serve: anthropic rate-limited, retry in 3 min; "
                "openrouter failing, retry in 30 s; groq key rejected",
            ),
        ),
        ({"openrouter": RATE_LIMITED}, ("ok", "anthropic", "via anthropic")),
    ],
    ids=[
        "ok",
        "rate-limited",
        "failing",
        "key-rejected",
        "two-skipped",
        "down",
        "fallback-cooling",
    ],
)
def test_overall_serving_and_reason(
    health: dict[str, Health], expected: tuple[str, str | None, str]
) -> None:
    assert reason(CONFIG, health) == expected


def test_after_the_cooldown_the_primary_is_retried_but_not_yet_serving() -> None:
    """A cooldown that ends is not a recovery: only a success (which drops the health
    entry) makes the primary serve again, so the icon does not flap on every cycle."""
    assert reason(CONFIG, {"anthropic": RATE_LIMITED}, now=NOW + 180) == (
        "degraded",
        "openrouter",
        "via openrouter — anthropic retrying",
    )
    alone = Config(endpoints=(ANTHROPIC,))
    assert reason(alone, {"anthropic": RATE_LIMITED}, now=NOW + 180) == (
        "degraded",
        "anthropic",
        "retrying anthropic",
    )
    assert reason(CONFIG, {}, now=NOW + 180) == ("ok", "anthropic", "via anthropic")


@pytest.mark.parametrize(
    ("routing", "health", "expected"),
    [
        (Routing(paused=True), {}, ("paused", "anthropic", "failover paused; anthropic only")),
        (
            Routing(paused=True),
            {"anthropic": RATE_LIMITED},
            ("paused", "anthropic", "failover paused; anthropic only"),
        ),
        (
            Routing(paused=True, pinned="groq"),
            {},
            ("paused", "groq", "failover paused; groq only"),
        ),
        (Routing(pinned="openrouter"), {}, ("degraded", "openrouter", "via openrouter (pinned)")),
        (Routing(pinned="anthropic"), {}, ("ok", "anthropic", "via anthropic (pinned)")),
        (
            Routing(pinned="groq"),
            {"groq": OVERLOADED},
            ("ok", "anthropic", "via anthropic"),
        ),
        (
            Routing(pinned="groq"),
            {"groq": OVERLOADED, "anthropic": OVERLOADED},
            (
                "degraded",
                "openrouter",
                "via openrouter — groq failing, retry in 30 s; anthropic failing, retry in 30 s",
            ),
        ),
    ],
    ids=[
        "paused",
        "paused-cooling",
        "paused-pinned",
        "pinned",
        "pinned-primary",
        "pinned-cooling",
        "pinned-and-primary-cooling",
    ],
)
def test_pinned_and_paused(
    routing: Routing, health: dict[str, Health], expected: tuple[str, str | None, str]
) -> None:
    config = Config(endpoints=CONFIG.endpoints, routing=routing)
    assert reason(config, health) == expected


def test_a_disabled_first_endpoint_makes_the_next_one_primary() -> None:
    config = Config(endpoints=(Endpoint(name="off", base_url="https://off", enabled=False), ROUTER))
    assert reason(config, {}) == ("ok", "openrouter", "via openrouter")
    rows = snapshot(config, {}, NOW, URL).endpoints
    assert [(r.name, r.state, r.primary) for r in rows] == [
        ("off", "disabled", False),
        ("openrouter", "ok", True),
    ]


def test_endpoint_rows() -> None:
    config = Config(
        endpoints=(ANTHROPIC, ROUTER, Endpoint(name="off", base_url="https://off", enabled=False)),
        routing=Routing(pinned="openrouter"),
    )
    health = {"anthropic": RATE_LIMITED, "off": OVERLOADED}
    assert endpoint_statuses(config, health, NOW + 60) == (
        EndpointStatus(
            "anthropic",
            True,
            "cooling",
            120.0,
            1,
            "HTTP 429",
            429,
            primary=True,
            pinned=False,
            proven=False,
        ),
        EndpointStatus("openrouter", True, "ok", 0.0, 0, "", None, primary=False, pinned=True),
        EndpointStatus(
            "off",
            False,
            "disabled",
            0.0,
            1,
            "HTTP 529",
            529,
            primary=False,
            pinned=False,
            proven=False,
        ),
    )


def test_to_json() -> None:
    health = {"anthropic": failed(failure_from_status(429, "100.04", 0.0))}
    snap = snapshot(Config(endpoints=(ANTHROPIC, ROUTER)), health, NOW, URL)
    assert snap.to_json() == {
        "status": "degraded",
        "serving": "openrouter",
        "reason": "via openrouter — anthropic rate-limited, retry in 2 min",
        "pinned": None,
        "paused": False,
        "url": URL,
        "problem": "",
        "endpoints": [
            {
                "name": "anthropic",
                "enabled": True,
                "state": "cooling",
                "retry_in": 100.0,
                "failures": 1,
                "last_error": "HTTP 429",
                "last_status": 429,
                "primary": True,
                "pinned": False,
                "proven": False,
                "usage": None,
            },
            {
                "name": "openrouter",
                "enabled": True,
                "state": "ok",
                "retry_in": 0.0,
                "failures": 0,
                "last_error": "",
                "last_status": None,
                "primary": False,
                "pinned": False,
                "proven": True,
                "usage": None,
            },
        ],
    }


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.0, "1 s"), (0.4, "1 s"), (1.0, "1 s"), (29.6, "30 s"), (59.0, "59 s"), (60.0, "1 min"),
     (180.0, "3 min"), (3000.0, "50 min"), (3600.0, "1.0 h"), (5400.0, "1.5 h")],
)  # fmt: skip
def test_describe_wait(seconds: float, words: str) -> None:
    assert describe_wait(seconds) == words


def test_stopped_and_error_snapshots() -> None:
    snap = stopped(URL)
    assert (snap.overall, snap.serving, snap.reason, snap.endpoints) == (
        "stopped",
        None,
        "proxy stopped",
        (),
    )
    problem = "Port 8765 on 127.0.0.1 is in use by another program. Choose another port in Settings → General."
    snap = stopped(URL, problem)
    assert (snap.overall, snap.reason, snap.problem) == ("error", problem, problem)
    assert snap.to_json()["status"] == "error"


# ---------------------------------------------------------------- found bugs: wording from message text


def test_an_in_band_rate_limit_reads_rate_limited() -> None:
    """An SSE `rate_limit_error` is a 429 (classify maps it so) but its message has no "429"."""
    data = '{"type":"error","error":{"type":"rate_limit_error","message":"Rate limited"}}'
    health = {"anthropic": failed(failure_from_sse_error(data))}
    assert reason(CONFIG, health)[2].startswith("via openrouter — anthropic rate-limited")


def test_a_429_in_an_error_detail_does_not_read_rate_limited() -> None:
    health = {
        "anthropic": failed(failure_from_status(503, None, 0.0, detail="request req_4290 failed"))
    }
    assert reason(CONFIG, health)[2] == "via openrouter — anthropic failing, retry in 30 s"


# ---------------------------------------------------------------- properties

HEALTHS = st.one_of(
    st.just(HEALTHY),
    st.builds(
        Health,
        failures=st.integers(1, 5),
        cooling_until=st.floats(0, 2 * NOW),
        auth_error=st.booleans(),
        last_error=st.sampled_from(["HTTP 429", "HTTP 529", "timeout"]),
    ),
)


@st.composite
def situations(draw: st.DrawFn) -> tuple[Config, dict[str, Health]]:
    names = ["a", "b", "c", "d"][: draw(st.integers(1, 4))]
    endpoints = tuple(
        Endpoint(name=n, base_url=f"https://{n}", enabled=draw(st.booleans())) for n in names
    )
    if not any(e.enabled for e in endpoints):
        endpoints = (Endpoint(name="z", base_url="https://z"), *endpoints)
    routing = Routing(
        pinned=draw(st.one_of(st.none(), st.sampled_from(names))), paused=draw(st.booleans())
    )
    health = {n: draw(HEALTHS) for n in names}
    return Config(endpoints=endpoints, routing=routing), health


@settings(max_examples=300, deadline=None)
@given(situations())
def test_snapshot_agrees_with_the_plan(situation: tuple[Config, dict[str, Health]]) -> None:
    config, health = situation
    snap = snapshot(config, health, NOW, URL)
    plan = plan_attempts(config, health, NOW)
    ready = [e for e in plan if health.get(e.name, HEALTHY).state(NOW) == "ok"]
    if config.routing.paused:
        assert (snap.overall, snap.serving) == ("paused", plan[0].name)
    elif not ready:
        assert (snap.overall, snap.serving) == ("down", None)
        assert snap.reason.startswith("no endpoint can serve: ")
    else:
        proven = [e for e in ready if health.get(e.name, HEALTHY).failures == 0]
        if not proven:  # cooldowns ended, nothing has served since
            assert (snap.overall, snap.serving) == ("degraded", plan[0].name)
            assert snap.reason == f"retrying {plan[0].name}"
            return
        assert snap.serving == proven[0].name
        primary = next(e.name for e in config.endpoints if e.enabled)
        assert snap.overall == ("ok" if snap.serving == primary else "degraded")
        assert snap.reason.startswith(f"via {snap.serving}")
    assert [row.name for row in snap.endpoints] == [e.name for e in config.endpoints]
