"""The endpoints' wire formats: what an attempt sends, and how answers become Anthropic's."""

from __future__ import annotations

from typing import Any, Protocol

from proxy.core.attempt_events import StreamTranslator
from proxy.core.body import dump, parse_json_object, with_model
from proxy.core.config import Endpoint, Secret
from proxy.core.openai.request import anthropic_to_openai
from proxy.core.openai.response import openai_error_to_anthropic, openai_to_anthropic
from proxy.core.openai.stream import StreamTranslator as OpenAIStreamTranslator
from proxy.core.shaping import request_headers, target_url
from proxy.incoming import Incoming
from proxy.upstream import Shaped


class Format(Protocol):
    """One wire format; the answer half is `proxy.core.attempt_events.AnswerFormat`."""

    @property
    def translates(self) -> bool: ...

    def accepts(self, path: str) -> bool: ...

    def body(self, incoming: Incoming, data: dict[str, Any] | None) -> bytes: ...

    def success_body(self, body: bytes, model: str) -> bytes: ...

    def error_body(self, status: int, body: bytes) -> bytes: ...

    def translator(self, model: str) -> StreamTranslator | None: ...


class AnthropicFormat:
    """Native Anthropic endpoints: bytes pass through; only the model may be rewritten."""

    translates = False

    def accepts(self, path: str) -> bool:
        return True

    def body(self, incoming: Incoming, data: dict[str, Any] | None) -> bytes:
        return incoming.body if data is None or data is incoming.data else dump(data)

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

    def body(self, incoming: Incoming, data: dict[str, Any] | None) -> bytes:
        return incoming.body if data is None else dump(anthropic_to_openai(data))

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
    incoming: Incoming, endpoint: Endpoint, key: Secret | None, data: dict[str, Any] | None
) -> Shaped:
    """What an attempt at `endpoint` sends: method, URL, headers and `data` (or the body)."""
    url = target_url(endpoint, incoming.path, incoming.query)
    headers = request_headers(incoming.headers, endpoint, key)
    return incoming.method, url, headers, format_for(endpoint).body(incoming, data)


def request_data(
    incoming: Incoming, endpoint: Endpoint
) -> tuple[dict[str, Any] | None, str | None]:
    """The JSON body for `endpoint` (None or the same object: unchanged) and its mapped model."""
    if endpoint.format == "anthropic" and not endpoint.models:
        return None, None  # the body passes as it came: no need to parse it
    data = incoming.data
    if data is None:
        return None, None
    return with_model(data, endpoint.models)


FORMATS: dict[str, Format] = {"anthropic": AnthropicFormat(), "openai": OpenAIFormat()}


def format_for(endpoint: Endpoint) -> Format:
    return FORMATS[endpoint.format]
