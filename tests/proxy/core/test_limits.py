"""Endpoint limits: parsing, what a request needs, skipping and clamping."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.config import (
    Endpoint,
    FieldError,
    Limits,
    config_to_dict,
    endpoint_to_dict,
    parse_config,
    parse_limits,
)
from proxy.core.limits import (
    IMAGE_TOKENS,
    Clamp,
    Needs,
    clamp_output,
    fit_plan,
    needs_of,
    skip_reason,
)

IMAGE = {
    "type": "image",
    "source": {"type": "base64", "media_type": "image/png", "data": "A" * 10_000},
}


def test_limits_parse_and_go_back_to_plain_data() -> None:
    raw = {"max_output_tokens": 8192, "context_tokens": 128000, "images": False, "tools": 128}
    limits = parse_limits(raw, "endpoints[1].limits")
    assert limits == Limits(8192, 128000, False, 128)
    endpoint = Endpoint(name="x", base_url="https://x.example", limits=limits)
    assert endpoint_to_dict(endpoint)["limits"] == raw
    assert "limits" not in endpoint_to_dict(Endpoint(name="y", base_url="https://y.example"))
    config = parse_config(
        {"endpoints": [{"name": "x", "base_url": "https://x", "limits": raw}]}, {}
    )
    assert parse_config(config_to_dict(config), {}) == config
    assert parse_limits(None, "l") == Limits()
    assert parse_limits({"images": None, "tools": None}, "l") == Limits()


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"max_output_tokens": 0}, "l.max_output_tokens"),
        ({"tools": "many"}, "l.tools"),
        ({"context_tokens": 1.5}, "l.context_tokens"),
        ({"images": "no"}, "l.images"),
        ({"tools": True}, "l.tools"),
        ({"videos": False}, "l.videos"),
    ],
)
def test_bad_limits_name_their_key(raw: dict[str, Any], path: str) -> None:
    with pytest.raises(FieldError) as error:
        parse_limits(raw, "l")
    assert error.value.path == path


def test_needs_find_images_anywhere_and_count_tools() -> None:
    data = {
        "system": "s" * 35,
        "tools": [{"name": "a", "input_schema": {}}] * 3,
        "messages": [
            {"role": "user", "content": [{"type": "tool_result", "content": [IMAGE]}]},
        ],
    }
    needs = needs_of(data)
    assert needs.images
    assert needs.tools == 3
    assert IMAGE_TOKENS < needs.input_tokens < IMAGE_TOKENS + 200  # the base64 is not counted
    assert needs_of({"messages": "hi"}) == Needs(False, 0, 1)


def test_skip_reasons() -> None:
    needs = Needs(images=True, tools=30, input_tokens=200_000)
    assert skip_reason(Limits(), needs) is None
    assert skip_reason(Limits(images=False), needs) == "images"
    assert skip_reason(Limits(tools=25), needs) == "tools"
    assert skip_reason(Limits(context_tokens=128_000), needs) == "context"
    assert skip_reason(Limits(tools=30, context_tokens=200_000), needs) is None


def endpoint(name: str, **limits: Any) -> Endpoint:
    return Endpoint(name=name, base_url=f"https://{name}.example", limits=Limits(**limits))


def test_fit_plan_skips_and_never_skips_them_all() -> None:
    a, b, c = endpoint("a"), endpoint("b", images=False), endpoint("c", tools=1)
    needs = Needs(images=True, tools=2, input_tokens=10)
    asked: list[int] = []

    def counted() -> Needs:
        asked.append(1)
        return needs

    assert list(fit_plan([a], counted)) == [(a, None)]
    assert asked == []  # no limits that skip: the body is not looked at
    steps = fit_plan([a, b, c], counted)
    assert next(steps) == (a, None)
    assert asked == []  # lazily: the primary served, nothing else was looked at
    assert list(steps) == [(b, "images"), (c, "tools")]
    assert list(fit_plan([b, c], counted)) == [(b, "images"), (c, None)]  # the last is tried
    assert list(fit_plan([c], counted)) == [(c, None)]
    assert list(fit_plan([b, c], lambda: None)) == [(b, None), (c, None)]
    assert list(fit_plan([], counted)) == []


def test_clamp_output() -> None:
    on = {"type": "enabled", "budget_tokens": 10_000}
    assert clamp_output(64_000, None, None) is None
    assert clamp_output(8_000, on, 8192) is None
    assert clamp_output(64_000, None, 8192) == Clamp(8192)
    assert clamp_output(64_000, {"type": "enabled", "budget_tokens": 4000}, 8192) == Clamp(8192)
    assert clamp_output(64_000, on, 8192) == Clamp(8192, budget=4096)
    assert clamp_output(64_000, on, 2000) == Clamp(2000, thinking_off=True)
    assert clamp_output(64_000, {"type": "disabled", "budget_tokens": 10_000}, 8192) == Clamp(8192)
    assert clamp_output(True, on, 1) is None
    assert clamp_output("64000", on, 1) is None


@settings(deadline=None)
@given(st.integers(1, 200_000), st.integers(0, 200_000), st.integers(1, 200_000))
def test_a_clamp_keeps_the_api_rules(max_tokens: int, budget: int, limit: int) -> None:
    clamp = clamp_output(max_tokens, {"type": "enabled", "budget_tokens": budget}, limit)
    if clamp is None:
        assert max_tokens <= limit
        return
    assert clamp.max_tokens == limit
    if not clamp.thinking_off:
        kept = budget if clamp.budget is None else clamp.budget
        assert kept < limit
        assert clamp.budget is None or clamp.budget >= 1024


def test_default_timeouts_catch_a_black_hole() -> None:
    from proxy.core.config import STREAM_HEADERS_SECONDS, WHOLE_HEADERS_SECONDS, Timeouts

    default = Timeouts()
    assert (default.headers_within(streamed=True), STREAM_HEADERS_SECONDS) == (15.0, 15.0)
    assert (default.headers_within(streamed=False), WHOLE_HEADERS_SECONDS) == (600.0, 600.0)
    assert default.commit_within(streamed=True) is None  # after the headers: idle only
    assert parse_config({"timeouts": {"connect": 5}}, {}).timeouts == Timeouts(connect=5.0)
    assert parse_config({"timeouts": {"first_byte": None, "idle": None}}, {}).timeouts == default
    chosen = parse_config({"timeouts": {"first_byte": 90}}, {}).timeouts
    assert (chosen.headers_within(True), chosen.headers_within(False)) == (90.0, 90.0)
    assert chosen.commit_within(streamed=True) == 90.0


@pytest.mark.parametrize(
    ("body", "streamed"),
    [
        (b'{"model":"m","messages":[],"stream":true}', True),
        (b'{"model":"m","stream" : false}', False),
        (b'{"model":"m"}', False),
        (b'{"stream":true,"messages":[{"content":"\\"stream\\": false"}]}', True),
        (b'{"messages":[{"content":"say \\"stream\\":true"}],"stream":false}', False),
        (b"", False),
    ],
)
def test_a_stream_is_told_from_the_body_without_parsing(body: bytes, streamed: bool) -> None:
    from proxy.core.body import sniff_stream

    assert sniff_stream(body) is streamed
