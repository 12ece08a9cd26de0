"""The client's request as the proxy reads it once."""

from __future__ import annotations

from typing import Any

from proxy.core.body import looks_like_json_object, parse_json_object, sniff_model, sniff_stream


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
