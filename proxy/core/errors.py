"""The one exception tree of Claude Code Fallback.

    CcfError
    ├── ConfigError              a config file or update that cannot be used
    ├── KeyStoreError            the OS keyring is missing, locked or refused
    ├── PortInUseError           the listen address is taken
    └── UpstreamError            one attempt at one endpoint failed without a usable response
        ├── UpstreamConnectError     refused, unreachable, DNS, TLS
        ├── UpstreamResetError       the connection broke mid-response
        ├── UpstreamTimeoutError     `connect`, `first_byte` or `idle` ran out
        └── UpstreamProtocolError    the upstream answered something that is not HTTP/SSE

aiohttp and OS errors are translated into these at the upstream boundary
(`proxy.upstream`); failover is decided from these types and from status codes.
"""

from __future__ import annotations


class CcfError(Exception):
    """Base of every error this application raises on purpose."""


class ConfigError(CcfError):
    """A configuration that cannot be used; the message names key path, value and fix."""

    def __init__(self, message: str, *, path: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class KeyStoreError(CcfError):
    """The OS keyring could not store or return a key."""


class PortInUseError(CcfError):
    """The configured listen address is already taken."""


class UpstreamError(CcfError):
    """An attempt that produced no usable upstream response."""

    kind = "error"


class UpstreamConnectError(UpstreamError):
    kind = "connect"


class UpstreamResetError(UpstreamError):
    kind = "reset"


class UpstreamTimeoutError(UpstreamError):
    kind = "timeout"

    def __init__(self, message: str, *, phase: str) -> None:
        super().__init__(message)
        self.phase = phase


class UpstreamProtocolError(UpstreamError):
    kind = "protocol"


class SseEventTooLargeError(ValueError):
    """An SSE event grew past the parser's maximum size without ending: a broken stream."""
