"""Per-format adapters: what an attempt sends, and how answers become Anthropic's format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from proxy.core.body import (
    dump,
    looks_like_json_object,
    parse_json_object,
    sniff_model,
    sniff_stream,
)
from proxy.core.config import Endpoint
from proxy.core.limits import Needs, Step, fit_plan, needs_of
from proxy.core.openai import StreamTranslator as OpenAIStreamTranslator
from proxy.core.openai import (
    anthropic_to_openai,
    openai_error_to_anthropic,
    openai_to_anthropic,
)
from proxy.core.rewrite import rewrite_anthropic, rewrite_data
from proxy.core.thinking import Provenance

Payload = bytes | dict[str, Any] | None  # Anthropic: the bytes to send; OpenAI: the request


class Incoming:
    """The client's request, read once. The JSON body is parsed only when something needs it."""

    __slots__ = (
        "_data", "_model", "_parsed", "body", "changes_health", "headers", "method", "path",
        "query",
    )  # fmt: skip

    def __init__(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self._data: dict[str, Any] | None = None
        self._parsed = False
        self._model: str | bool | None = False  # False: not looked for yet
        self.changes_health = method == "POST" and path == "/v1/messages"

    @property
    def data(self) -> dict[str, Any] | None:
        """The body as a JSON object (parsed on first use), or None when it is not one."""
        if not self._parsed:
            self._data = parse_json_object(self.body) if self.is_json else None
            self._parsed = True
        return self._data

    @property
    def streamed(self) -> bool:
        """Whether the client asked for a stream (`"stream": true`)."""
        if self._parsed:
            return self._data is not None and self._data.get("stream") is True
        return sniff_stream(self.body)

    @property
    def is_json(self) -> bool:
        return looks_like_json_object(self.body)

    @property
    def model(self) -> str | None:
        """The requested model, looked for once."""
        if self._model is False:
            self._model = self._find_model()
        return self._model if isinstance(self._model, str) else None

    def _find_model(self) -> str | None:
        if self._parsed:
            model = self._data.get("model") if self._data else None
            return model if isinstance(model, str) else None
        return sniff_model(self.body)


class StreamTranslator(Protocol):
    def feed(self, chunk: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class Wire(Protocol):
    def accepts(self, path: str) -> bool: ...

    def body(self, incoming: Incoming, data: Payload) -> bytes: ...

    def success_body(self, body: bytes, model: str) -> bytes: ...

    def error_body(self, status: int, body: bytes) -> bytes: ...

    def translator(self, model: str) -> StreamTranslator | None: ...


class AnthropicWire:
    """Native Anthropic endpoints: bytes pass through; only the model may be rewritten."""

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


class OpenAIWire:
    """Chat Completions endpoints: requests and answers translated in the pure core."""

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


WIRES: dict[str, Wire] = {"anthropic": AnthropicWire(), "openai": OpenAIWire()}


def wire_for(endpoint: Endpoint) -> Wire:
    return WIRES[endpoint.format]
