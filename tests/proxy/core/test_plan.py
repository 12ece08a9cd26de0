"""The failover plan: order, pinning, pausing, cooling endpoints and the never-refuse rule."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.config import Config, Endpoint, Routing
from proxy.core.health import Health
from proxy.core.plan import ordered_endpoints, plan_attempts


def ep(name: str, *, enabled: bool = True, fmt: str = "anthropic") -> Endpoint:
    return Endpoint(name=name, base_url=f"https://{name}.example", format=fmt, enabled=enabled)  # type: ignore[arg-type]


A, B, C, D = ep("a"), ep("b"), ep("c"), ep("d")
CONFIG = Config(endpoints=(A, B, C, D))


def cooling(until: float, *, auth: bool = False) -> Health:
    return Health(failures=1, cooling_until=until, auth_error=auth, failed_at=0.0)


def names(endpoints: tuple[Endpoint, ...]) -> list[str]:
    return [e.name for e in endpoints]


def test_configured_order_when_all_are_healthy() -> None:
    assert plan_attempts(CONFIG, {}, now=0.0) == (A, B, C, D)


def test_pinned_endpoint_moves_first_and_the_rest_keep_order() -> None:
    config = CONFIG.with_routing(pinned="c")
    assert names(ordered_endpoints(config)) == ["c", "a", "b", "d"]
    assert names(plan_attempts(config, {}, 0.0)) == ["c", "a", "b", "d"]


def test_disabled_endpoints_are_dropped() -> None:
    config = Config(endpoints=(A, ep("b", enabled=False), C))
    assert names(plan_attempts(config, {}, 0.0)) == ["a", "c"]


def test_a_pinned_disabled_endpoint_is_still_dropped() -> None:
    config = Config(endpoints=(A, ep("b", enabled=False), C), routing=Routing(pinned="b"))
    assert names(plan_attempts(config, {}, 0.0)) == ["a", "c"]


def test_cooling_endpoints_are_skipped() -> None:
    health = {"a": cooling(100.0), "c": cooling(50.0, auth=True)}
    assert names(plan_attempts(CONFIG, health, now=10.0)) == ["b", "d"]


def test_a_cooled_down_endpoint_is_tried_again() -> None:
    health = {"a": cooling(100.0)}
    assert names(plan_attempts(CONFIG, health, now=100.0)) == ["a", "b", "c", "d"]


def test_a_cooling_pinned_endpoint_is_skipped() -> None:
    config = CONFIG.with_routing(pinned="c")
    assert names(plan_attempts(config, {"c": cooling(100.0)}, now=0.0)) == ["a", "b", "d"]


def test_all_cooling_tries_the_one_ending_soonest_once() -> None:
    health = {
        "a": cooling(300.0),
        "b": cooling(90.0),
        "c": cooling(60.0, auth=True),
        "d": cooling(61.0),
    }
    assert plan_attempts(CONFIG, health, now=0.0) == (C,)


def test_all_cooling_with_a_tie_takes_the_first_in_order() -> None:
    health = {n: cooling(60.0) for n in "abcd"}
    assert plan_attempts(CONFIG, health, now=0.0) == (A,)
    assert plan_attempts(CONFIG.with_routing(pinned="d"), health, now=0.0) == (D,)


def test_paused_tries_only_the_first_even_when_it_is_cooling() -> None:
    config = CONFIG.with_routing(paused=True)
    assert plan_attempts(config, {"a": cooling(100.0)}, now=0.0) == (A,)


def test_paused_and_pinned_tries_only_the_pinned() -> None:
    config = CONFIG.with_routing(paused=True, pinned="b")
    assert plan_attempts(config, {}, now=0.0) == (B,)


def test_accepts_filters_endpoints() -> None:
    config = Config(endpoints=(A, ep("o", fmt="openai"), C))
    anthropic_only = plan_attempts(config, {}, 0.0, accepts=lambda e: e.format == "anthropic")
    assert names(anthropic_only) == ["a", "c"]
    assert plan_attempts(config, {}, 0.0, accepts=lambda _: False) == ()


def test_health_of_unknown_endpoints_is_ignored() -> None:
    assert plan_attempts(CONFIG, {"gone": cooling(1e9)}, now=0.0) == (A, B, C, D)


# ---------------------------------------------------------------- properties

NAMES = ["a", "b", "c", "d", "e"]


@st.composite
def situations(draw: st.DrawFn) -> tuple[Config, dict[str, Health], float, frozenset[str]]:
    count = draw(st.integers(1, len(NAMES)))
    endpoints = tuple(ep(n, enabled=draw(st.booleans())) for n in NAMES[:count])
    routing = Routing(
        pinned=draw(st.one_of(st.none(), st.sampled_from(NAMES[:count]))),
        paused=draw(st.booleans()),
    )
    health = {
        n: cooling(draw(st.floats(0, 200)), auth=draw(st.booleans()))
        for n in draw(st.sets(st.sampled_from(NAMES[:count])))
    }
    accepted = frozenset(draw(st.sets(st.sampled_from(NAMES[:count]))))
    return Config(endpoints=endpoints, routing=routing), health, draw(st.floats(0, 200)), accepted


@settings(max_examples=300, deadline=None)
@given(situations())
def test_plan_properties(
    situation: tuple[Config, dict[str, Health], float, frozenset[str]],
) -> None:
    config, health, now, accepted = situation
    plan = plan_attempts(config, health, now, accepts=lambda e: e.name in accepted)
    candidates = [e for e in ordered_endpoints(config) if e.name in accepted]
    enabled = {e.name for e in config.endpoints if e.enabled}

    assert (plan == ()) == (not candidates)  # never empty while some endpoint accepts
    assert set(names(plan)) <= enabled & accepted  # disabled never
    assert len(set(names(plan))) == len(plan)  # each at most once
    if not candidates:
        return
    if config.routing.paused:
        assert plan == (candidates[0],)  # paused: exactly one, the first
        return
    ready = [e for e in candidates if e.name not in health or health[e.name].state(now) == "ok"]
    if ready:
        assert list(plan) == ready  # in order, cooling ones skipped
    else:
        soonest = min(health[e.name].cooling_until for e in candidates)
        assert len(plan) == 1
        assert health[plan[0].name].cooling_until == soonest
    pinned = config.routing.pinned
    if pinned in names(plan):
        assert plan[0].name == pinned  # pinned first


def test_only_api_paths_fail_over() -> None:
    from proxy.core.plan import fails_over

    assert fails_over("/v1/messages")
    assert fails_over("/v1/messages/count_tokens")
    assert not fails_over("/")
    assert not fails_over("/favicon.ico")
