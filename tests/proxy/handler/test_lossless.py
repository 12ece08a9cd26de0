"""Lossless bodies through a real `ccf serve`: what each provider receives is the client's
body but for the fields its config changes, and no body makes the proxy answer 500."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import FakesInThread, FakeUpstream
from tests.proxy.core.jsontext import SPACE, VALUES, join_members, request_members
from tests.serve import ccf_serve

SETTINGS = settings(
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Served:
    def __init__(self, url: str, primary: FakeUpstream, anthropic: FakeUpstream) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port or 0
        self.primary = primary
        self.anthropic = anthropic

    def post(
        self, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            all_headers = {"content-type": "application/json", **(headers or {})}
            connection.request("POST", "/v1/messages", body=body, headers=all_headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    fakes = FakesInThread()
    primary, anthropic, openai = (
        fakes.start("primary"),
        fakes.start("fallback"),
        fakes.start("openai"),
    )
    primary.status(529)
    openai.status(529)
    config = Path(tmp_path_factory.mktemp("lossless")) / "config.yaml"
    config.write_text(
        f"""endpoints:
  - {{name: primary, base_url: "{primary.url}"}}
  - name: fallback
    base_url: "{anthropic.url}"
    models: {{"*": their-model}}
    limits: {{max_output_tokens: 8192}}
  - name: openai
    base_url: "{openai.url}/v1"
    format: openai
    models: {{"*": gpt}}
    limits: {{max_output_tokens: 8192}}
failover: {{cooldown_seconds: 0, max_cooldown_seconds: 0}}
"""
    )
    try:
        with ccf_serve(config) as url:
            yield Served(url, primary, anthropic)
    finally:
        fakes.close()


@SETTINGS
@given(request_members(), st.lists(SPACE, min_size=1, max_size=3))
def test_the_fallback_gets_the_clients_bytes_but_for_model_and_max_tokens(
    served: Served, members: list[tuple[str, str]], spaces: list[str]
) -> None:
    body = join_members(members, spaces).encode()
    expected = join_members(
        [
            (key, '"their-model"' if key == '"model"' else "8192" if value == "64000" else value)
            for key, value in members
        ],
        spaces,
    ).encode()
    served.primary.received.clear()
    served.anthropic.received.clear()
    status, headers, _ = served.post(body)
    assert status == 200, headers
    assert headers["x-ccf-endpoint"] == "fallback"
    assert served.primary.received[-1].body == body
    assert served.anthropic.received[-1].body == expected


BODIES = st.one_of(
    VALUES.map(str.encode),
    st.binary(max_size=200),
    st.builds(
        lambda members, spaces: join_members(members, spaces).encode(),
        request_members(),
        st.lists(SPACE, min_size=1, max_size=2),
    ),
    st.sampled_from(
        [
            b'{"model":"m","messages":[{"role":"user","content":"\\ud83d"}]}',
            b'{"model":"\\ud83d","max_tokens":64000}',
            b'{"model":"m","max_tokens":1e400}',
            b'{"model":"m","x":' + b"[" * 5000 + b"]" * 5000 + b"}",
            '{"model":"m","messages":"\udc80"}'.encode("utf-8", "surrogatepass"),
        ]
    ),
)


@SETTINGS
@given(BODIES, st.booleans())
def test_no_body_makes_the_proxy_answer_500(served: Served, body: bytes, openai_only: bool) -> None:
    served.anthropic.status(529) if openai_only else served.anthropic.ok()
    try:
        status, headers, answer = served.post(body)
    finally:
        served.anthropic.ok()
    assert status != 500, answer
    assert "x-ccf-attempts" in headers, answer


def test_a_lone_surrogate_reaches_an_openai_fallback(served: Served) -> None:
    body = b'{"model":"claude","max_tokens":64000,"messages":[{"role":"user","content":"half \\ud83d"}]}'
    served.anthropic.status(529)
    try:
        status, headers, _ = served.post(body)
    finally:
        served.anthropic.ok()
    assert status == 529  # every endpoint answered 529: the last answer, as it came
    assert headers["x-ccf-attempts"] == "primary=529, fallback=529, openai=529"
