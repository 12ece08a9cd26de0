"""The one redactor: told secrets, learned client credentials, header forms, key shapes."""

from __future__ import annotations

import pytest

from proxy.core.redact import LEARNED_MAX, MASK, Redactor, credentials_in


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("invalid x-api-key sk-ant-api03-AbCdEf0123456789xyz", "invalid x-api-key ***"),
        ("invalid key sk-or-v1-0123456789abcdef0123", "invalid key ***"),
        ("Incorrect API key provided: sk-proj-abcdefABCDEF123456", "Incorrect API key provided: ***"),
        ("oauth sk-ant-oat01-AAAAbbbbCCCC1111", "oauth ***"),
        ("key=AIzaSyA1234567890abcdefghijklmnopqrstu", "key=***"),
        ("token eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4", "token ***"),
        ("got Bearer abcdefgh12345678 from you", "got Bearer *** from you"),
        ('{"api_key": "whatever-value"}', '{"api_key": "***"}'),
        ("x-api-key: short1", "x-api-key: ***"),
        ("opaque Zx81Kq0PLmN3vB7cR2dT5yW9uH4jE6fA", "opaque ***"),
        # what must stay readable
        ("model claude-sonnet-4-5-20250929 not found", "model claude-sonnet-4-5-20250929 not found"),
        ("request_id req_011CUhR8bB3Gc6hF9n1QWRzT", "request_id req_011CUhR8bB3Gc6hF9n1QWRzT"),
        ("Overloaded", "Overloaded"),
        ("authorization failed for user", "authorization failed for user"),
        ("a: sha 3f2a9c0d4e5b6a7f8091a2b3c4d5e6f70819aabb", "a: sha 3f2a9c0d4e5b6a7f8091a2b3c4d5e6f70819aabb"),
    ],
)  # fmt: skip
def test_shapes_and_headers_are_masked_words_are_not(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


def test_told_secrets_are_masked_anywhere_in_any_form() -> None:
    redactor = Redactor(["plainkey-123", "ab"])  # "ab": too short to mask safely
    assert redactor.redact("it said plainkey-123!") == f"it said {MASK}!"
    assert redactor.redact("about a tab") == "about a tab"
    assert redactor.secrets == frozenset({"plainkey-123"})


def test_a_secret_containing_another_is_masked_whole() -> None:
    redactor = Redactor(["custom1", "custom1-longer"])
    assert redactor.redact("custom1-longer and custom1") == f"{MASK} and {MASK}"


def test_learned_credentials_are_masked_and_bounded() -> None:
    redactor = Redactor()
    redactor.learn(["client-own-key"])
    assert redactor.redact("echo client-own-key") == f"echo {MASK}"
    redactor.learn([f"made-up-{i:04d}" for i in range(LEARNED_MAX + 10)])
    assert redactor.redact("echo client-own-key") == "echo client-own-key"  # evicted
    assert redactor.redact(f"echo made-up-{LEARNED_MAX + 9:04d}") == f"echo {MASK}"


def test_credentials_in_request_headers() -> None:
    headers = [
        ("X-Api-Key", "k-1234"),
        ("Authorization", "Bearer  tok-5678 "),
        ("x-ccf-token", "lan-token-99"),
        ("content-type", "application/json"),
        ("authorization", "Bearer x"),  # too short
    ]
    assert credentials_in(headers) == ["k-1234", "tok-5678", "lan-token-99"]


def test_bytes_and_json() -> None:
    redactor = Redactor(["secret-one"])
    assert redactor.redact_bytes(b'{"m": "secret-one"}') == b'{"m": "***"}'
    assert redactor.redact_bytes(b"\xff secret-one") == b"\xff ***"
    same = b"nothing here"
    assert redactor.redact_bytes(same) is same
    value = {"a": ["secret-one", 3, None], "secret-one": {"b": "x"}}
    assert redactor.redact_json(value) == {"a": [MASK, 3, None], MASK: {"b": "x"}}
