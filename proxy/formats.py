"""The endpoints' wire formats: what an attempt sends, and how answers become Anthropic's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from proxy.core.attempt_events import StreamTranslator
from proxy.core.body import dump, parse_json_object
from proxy.core.config import Endpoint, Secret
from proxy.core.limits import Needs, Step, fit_plan, needs_of
from proxy.core.openai.request import anthropic_to_openai
from proxy.core.openai.response import openai_error_to_anthropic, openai_to_anthropic
from proxy.core.openai.stream import StreamTranslator as OpenAIStreamTranslator
from proxy.core.rewrite import rewrite_anthropic, rewrite_data
from proxy.core.shaping import request_headers, target_url
from proxy.core.thinking import Provenance
from proxy.incoming import Incoming
from proxy.upstream import Shaped

Payload = bytes | dict[str, Any] | None  # Anthropic: the bytes to send; OpenAI: the request


class Format(Protocol):
    """One wire format; the answer half is `proxy.core.attempt_events.AnswerFormat`."""

    @property
    def translates(self) -> bool: ...

    def accepts(self, path: str) -> bool: ...

    def body(self, incoming: Incoming, data: Payload) -> bytes: ...

    def success_body(self, body: bytes, model: str) -> bytes: ...

    def error_body(self, status: int, body: bytes) -> bytes: ...

    def translator(self, model: str) -> StreamTranslator | None: ...


class AnthropicFormat:
    """Native Anthropic endpoints: bytes pass through; only the model may be rewritten."""

    translates = False

    def accepts(self, path: str) -> bool:
        return True

    def body(self, incoming: Incoming, data: Payload) -> bytes:
        return data if isinstance(data, bytes) else incoming.body

    def success_body(self, body: bytes, model: str) -> bytes:
        return body

    def error_body(self, status: int, body: bytes) -> bytes:
        return body

    def translator(self, model: str) -> StreamTranslator | None:
        return None


class OpenAIFormat:
    """Chat Completions endpoints: requests and answers translated in the pure core."""

    translates = True

    def accepts(self, path: str) -> bool:
        return path == "/v1/messages"

    def body(self, incoming: Incoming, data: Payload) -> bytes:
        return dump(anthropic_to_openai(data)) if isinstance(data, dict) else incoming.body

    def success_body(self, body: bytes, model: str) -> bytes:
        data = parse_json_object(body)
        if data is None:
            return openai_error_to_anthropic(502, body)
        return dump(openai_to_anthropic(data, model))

    def error_body(self, status: int, body: bytes) -> bytes:
        return openai_error_to_anthropic(status, body)

    def translator(self, model: str) -> StreamTranslator | None:
        return OpenAIStreamTranslator(model)


def shaped_request(
    incoming: Incoming, endpoint: Endpoint, key: Secret | None, data: Payload
) -> Shaped:
    """What an attempt at `endpoint` sends: method, URL, headers and `data` (or the body)."""
    url = target_url(endpoint, incoming.path, incoming.query)
    headers = request_headers(incoming.headers, endpoint, key)
    return incoming.method, url, headers, format_for(endpoint).body(incoming, data)


def request_data(
    incoming: Incoming, endpoint: Endpoint, provenance: Provenance | None
) -> tuple[Payload, str | None]:
    """What `endpoint` is sent (None: the body as it came) and the model it now names.
    `provenance` None strips every thinking block (the retry after a signature 400)."""
    if endpoint.format == "anthropic":
        rewritten = rewrite_anthropic(incoming.body, endpoint, provenance)
        return rewritten.body, rewritten.mapped
    data = incoming.data
    if data is None:
        return None, None
    return rewrite_data(data, endpoint)


def request_needs(incoming: Incoming) -> Needs | None:
    data = incoming.data
    return None if data is None else needs_of(data)


def fitted_plan(incoming: Incoming, plan: tuple[Endpoint, ...]) -> Iterator[Step]:
    """The plan with the endpoints whose `limits` cannot take the request marked skipped;
    the request is looked at once, when the first endpoint with such limits comes up."""
    found: list[Needs | None] = []

    def needs() -> Needs | None:
        if not found:
            found.append(request_needs(incoming))
        return found[0]

    return fit_plan(plan, needs)


FORMATS: dict[str, Format] = {"anthropic": AnthropicFormat(), "openai": OpenAIFormat()}


def format_for(endpoint: Endpoint) -> Format:
    return FORMATS[endpoint.format]
