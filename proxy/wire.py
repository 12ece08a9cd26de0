"""Per-format adapters: what an attempt sends, and how answers become Anthropic's format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from proxy.core.body import dump, parse_json_object, with_model
from proxy.core.config import Endpoint
from proxy.core.openai import StreamTranslator as OpenAIStreamTranslator
from proxy.core.openai import (
    anthropic_to_openai,
    openai_error_to_anthropic,
    openai_to_anthropic,
)


@dataclass(frozen=True, slots=True)
class Incoming:
    """The client's request, read once."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    data: dict[str, Any] | None

    @property
    def model(self) -> str | None:
        model = self.data.get("model") if self.data else None
        return model if isinstance(model, str) else None

    @property
    def changes_health(self) -> bool:
        return self.path == "/v1/messages"


class StreamTranslator(Protocol):
    def feed(self, chunk: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class Wire(Protocol):
    def accepts(self, path: str) -> bool: ...

    def body(self, incoming: Incoming, data: dict[str, Any] | None) -> bytes: ...

    def success_body(self, body: bytes, model: str) -> bytes: ...

    def error_body(self, status: int, body: bytes) -> bytes: ...

    def translator(self, model: str) -> StreamTranslator | None: ...


class AnthropicWire:
    """Native Anthropic endpoints: bytes pass through; only the model may be rewritten."""

    def accepts(self, path: str) -> bool:
        return True

    def body(self, incoming: Incoming, data: dict[str, Any] | None) -> bytes:
        return incoming.body if data is incoming.data else dump(data or {})

    def success_body(self, body: bytes, model: str) -> bytes:
        return body

    def error_body(self, status: int, body: bytes) -> bytes:
        return body

    def translator(self, model: str) -> StreamTranslator | None:
        return None


class OpenAIWire:
    """Chat Completions endpoints: requests and answers translated in the pure core."""

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


def request_data(
    incoming: Incoming, endpoint: Endpoint
) -> tuple[dict[str, Any] | None, str | None]:
    """The JSON body for `endpoint` (the same object when unchanged) and its mapped model."""
    if incoming.data is None:
        return None, None
    return with_model(incoming.data, endpoint.models)


WIRES: dict[str, Wire] = {"anthropic": AnthropicWire(), "openai": OpenAIWire()}


def wire_for(endpoint: Endpoint) -> Wire:
    return WIRES[endpoint.format]
