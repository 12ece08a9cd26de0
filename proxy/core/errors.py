"""The one exception tree of Claude Code Fallback: every error it raises on purpose.

    CcfError
    ├── ConfigError              a config file that cannot be used (key path, line, fix)
    │   ├── InvalidChangeError       a change that would leave the config invalid
    │   └── ConfigWriteError         the config file could not be written
    ├── KeyStoreError            the OS keyring is missing, locked or refused
    ├── ListenError              the proxy cannot listen on an address
    │   └── PortInUseError           the address is taken
    ├── UpstreamError            one attempt at one endpoint failed without a usable response
    │   ├── UpstreamConnectError     refused, unreachable, DNS, TLS
    │   ├── UpstreamResetError       the connection broke mid-response
    │   ├── UpstreamTimeoutError     `connect`, `first_byte` or `idle` ran out
    │   └── UpstreamProtocolError    the upstream answered something that is not HTTP/SSE
    │       └── SseEventTooLargeError    one SSE event grew past the parser's limit
    ├── ApiError                 an admin API call that cannot be done (HTTP status, field)
    ├── DesktopError             a desktop service (clipboard, opener, autostart) failed
    │   ├── TrayUnavailable          no tray icon can be shown here: run headless
    │   └── SettingsError            `ccf settings` could not open the settings page
    └── PackagingError           a release build is not fit to ship
        ├── BuildError               PyInstaller, or the frozen app's contents
        └── SmokeError               the frozen app failed a real request

Foreign errors are translated where they enter: aiohttp and OS errors at the upstream
boundary (`proxy.upstream`), keyring errors in `proxy.keys`, socket errors in
`proxy.server`, file and YAML errors in `proxy.config_file` and `proxy.config_changes`,
clipboard and opener errors in `tray_app.desktop`. Failover is decided from these types
and from status codes, never from message text.
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


class InvalidChangeError(ConfigError):
    """A change that would leave the config invalid; `path` names the setting."""


class ConfigWriteError(ConfigError):
    """The config file could not be written; nothing changed."""


class KeyStoreError(CcfError):
    """The OS keyring could not store or return a key."""


class ListenError(CcfError):
    """The proxy cannot listen on an address (not allowed, no such interface)."""


class PortInUseError(ListenError):
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


class ApiError(CcfError):
    """An admin call that cannot be done; `field` names the setting it concerns."""

    def __init__(self, status: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class DesktopError(CcfError):
    """A desktop service failed; the message says what to do."""


class TrayUnavailable(DesktopError):
    """No tray icon can be shown here; run headless instead."""


class SettingsError(DesktopError):
    """The settings page could not be opened; the message says what to do."""


class PackagingError(CcfError):
    """A release build that must not ship; the message says which check failed."""


class BuildError(PackagingError):
    """PyInstaller failed, or the frozen app has the wrong contents."""


class SmokeError(PackagingError):
    """A smoke check of the frozen app failed; the message says which and what was seen."""


class SseEventTooLargeError(UpstreamProtocolError, ValueError):
    """An event stream sent more than the maximum event size without a blank line (a
    ValueError too, as the stream parsers raise for any stream they cannot frame)."""
