"""The one decision of what a request is, from its raw target."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.paths import Target, classify


@pytest.mark.parametrize(
    ("target", "kind", "plain"),
    [
        ("/v1/messages", "proxied", "/v1/messages"),
        ("/v1/messages?beta=true", "proxied", "/v1/messages"),
        ("/v1/messages/count_tokens", "proxied", "/v1/messages/count_tokens"),
        ("/health", "local", "/health"),
        ("/metrics", "local", "/metrics"),
        ("/%68ealth", "local", "/health"),
        ("/%6D%65trics", "local", "/metrics"),
        ("/health/", "proxied", "/health/"),
        ("//health", "proxied", "//health"),
        ("/healthz", "proxied", "/healthz"),
        ("/_ccf", "admin", "/_ccf"),
        ("/_ccf/", "admin", "/_ccf/"),
        ("/_ccf/api/config", "admin", "/_ccf/api/config"),
        ("/%5fccf/api/config", "admin", "/_ccf/api/config"),
        ("/%5Fccf", "admin", "/_ccf"),
        ("/_ccfx", "proxied", "/_ccfx"),
        ("/v1/caf%C3%A9", "proxied", "/v1/café"),
        ("/v1/100%25", "proxied", "/v1/100%"),
        ("/v1/a...b/..c/d..", "proxied", "/v1/a...b/..c/d.."),
        ("/", "proxied", "/"),
    ],
)
def test_kinds_and_plain_forms(target: str, kind: str, plain: str) -> None:
    assert (classify(target).kind, classify(target).plain) == (kind, plain)


@pytest.mark.parametrize(
    "target",
    [
        "/_ccf%2F..%2Fv1%2Fmessages",  # the first finding
        "/%5fccf%2f..%2fv1%2fmessages",
        "/v1%2fmessages",
        "/v1%5Cmessages",
        "/v1\\messages",
        "/v1/../v1/messages",
        "/v1/./messages",
        "/_ccf/../v1/messages",
        "/%2e%2e/v1/messages",
        "/%2E/v1/messages",
        "/.%2e/v1/messages",
        "/v1/messages/..",
        "/v1/messages/.",
        "/..",
        "/v1/mess%00ages",
        "/v1/mess%0d%0aages",
        "/v1/mess%7Fages",
        "/v1/messages%3Fx=1",
        "/v1/messages%23top",
        "/v1/messages#top",
        "/v1/%zzmessages",
        "/v1/messages%4",
        "/v1/messages%",
        "/v1/%FFmessages",  # not UTF-8 once decoded
        "/v1/messages\x00",
        "/v1/mess ages",
        "/v1/messagés",
        "http://evil.example/v1/messages",
        "*",
        "",
        "v1/messages",
        "/v1/messages?a=b c",
        "/v1/messages?a=\\",
    ],
)
def test_ambiguous_targets_are_refused(target: str) -> None:
    classified = classify(target)
    assert classified.kind == "refused", classified
    assert classified.problem


def test_raw_path_and_query_are_kept_as_sent() -> None:
    assert classify("/v1/%6dessages?a=%26b&beta=true") == Target(
        "proxied", "/v1/%6dessages", "a=%26b&beta=true", "/v1/messages"
    )


def test_a_query_may_hold_slashes_dots_and_question_marks() -> None:
    assert classify("/v1/models?after=/../x?y").kind == "proxied"


SPELLINGS = st.sampled_from(["/", "%2F", "%2f", ".", "%2E", "%2e", "\\", "%5C", "%00", "a"])


@settings(max_examples=500, deadline=None)
@given(st.lists(SPELLINGS | st.sampled_from(["_ccf", "health", "v1", "%68", "%5F"]), max_size=8))
def test_whatever_is_not_refused_has_no_ambiguous_plain_form(parts: list[str]) -> None:
    classified = classify("/" + "".join(parts))
    if classified.kind != "refused":
        segments = classified.plain.split("/")
        assert not {".", ".."} & set(segments)
        assert "\\" not in classified.plain
        assert "\x00" not in classified.plain
        assert classified.plain.count("/") == classified.raw.count("/")
