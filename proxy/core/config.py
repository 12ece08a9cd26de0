"""The configuration model: frozen dataclasses, parsed once from plain data.

Parsers here raise `FieldError` (a `ValueError`) naming the key path; `proxy.core.config_yaml`
turns that into one `ConfigError` that also names the YAML line.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias, TypeVar
from urllib.parse import urlsplit

Format: TypeAlias = Literal["anthropic", "openai"]
Auth: TypeAlias = Literal["client", "x-api-key", "bearer"]
Choice = TypeVar("Choice", bound=str)

FORMATS: tuple[Format, ...] = ("anthropic", "openai")
AUTHS: tuple[Auth, ...] = ("client", "x-api-key", "bearer")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_ON_STATUS: tuple[int | str, ...] = (401, 403, 404, 408, 409, 429, "5xx")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_ENV_VAR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DIGITS_RE = re.compile(r"[0-9]{1,6}")
_SUBST_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_STATUS_CLASS_RE = re.compile(r"[1-5]xx")
_URL_UNSAFE_RE = re.compile(r"[\s\x00-\x1f\x7f]")
_HOSTNAME_RE = re.compile(r"[\w.-]+|[0-9a-f:.]+(%[\w.-]+)?")  # a name, or an IPv6 address


class FieldError(ValueError):
    """A bad value at a key path, e.g. `endpoints[1].auth`."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.detail = message


@dataclass(frozen=True, slots=True)
class Secret:
    """A credential. Its repr never shows the value."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    @property
    def last4(self) -> str:
        return self.value[-4:] if len(self.value) >= 8 else ""


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where an endpoint's key comes from: the OS keyring or an environment variable."""

    kind: Literal["keyring", "env"] = "keyring"
    env_var: str = ""

    def __str__(self) -> str:
        return f"env:{self.env_var}" if self.kind == "env" else "keyring"


@dataclass(frozen=True, slots=True)
class Limits:
    """What a provider can take; None (or `images: True`) means no limit."""

    max_output_tokens: int | None = None
    context_tokens: int | None = None
    images: bool = True
    tools: int | None = None

    @property
    def skips(self) -> bool:
        """Whether some request could be too much for this provider."""
        return self.context_tokens is not None or not self.images or self.tools is not None


NO_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens, for the usage ledger's cost estimate."""

    input: float = 0.0
    output: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0


PRICE_KINDS = ("input", "output", "cache_read", "cache_write")


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    base_url: str
    format: Format = "anthropic"
    auth: Auth = "client"
    key: KeySource = KeySource()
    models: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str | None], ...] = ()
    enabled: bool = True
    ca_file: str | None = None  # a PEM CA trusted for this endpoint besides the OS store
    price: Price | None = None  # None: the bundled price table decides
    limits: Limits = NO_LIMITS

    @property
    def signer(self) -> str:
        """Who verifies this endpoint's thinking signatures: its API root."""
        return self.base_url

    @property
    def needs_key(self) -> bool:
        return self.auth != "client"


@dataclass(frozen=True, slots=True)
class Listen:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT


@dataclass(frozen=True, slots=True)
class Routing:
    pinned: str | None = None
    paused: bool = False


@dataclass(frozen=True, slots=True)
class Failover:
    on_status: tuple[int | str, ...] = DEFAULT_ON_STATUS
    cooldown_seconds: float = 30.0
    max_cooldown_seconds: float = 1800.0

    def fails_over_on(self, status: int) -> bool:
        return status in self.on_status or f"{status // 100}xx" in self.on_status


STREAM_HEADERS_SECONDS = 15.0  # a streamed answer's headers come at once, or not at all
WHOLE_HEADERS_SECONDS = 600.0  # a whole answer's come with it: Anthropic's own limit


@dataclass(frozen=True, slots=True)
class Timeouts:
    """`first_byte` None (not set): 15 s for a stream's headers, 600 s for a whole answer's;
    after a stream's headers, only `idle` bounds the wait for its first content (a ping
    counts as life)."""

    connect: float = 10.0
    first_byte: float | None = None
    idle: float = 180.0

    def headers_within(self, streamed: bool) -> float:
        """How long an attempt waits for response headers."""
        if self.first_byte is not None:
            return self.first_byte
        return STREAM_HEADERS_SECONDS if streamed else WHOLE_HEADERS_SECONDS

    def commit_within(self, streamed: bool) -> float | None:
        """How long, from sending, a stream may take to commit; None: bounded by `idle`."""
        return self.first_byte


@dataclass(frozen=True, slots=True)
class Security:
    access_token: Secret | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """The usage ledger: how long its rows are kept."""

    retention_days: int = 90


ANTHROPIC = Endpoint(name="anthropic", base_url="https://api.anthropic.com", auth="client")


@dataclass(frozen=True, slots=True)
class Config:
    endpoints: tuple[Endpoint, ...] = (ANTHROPIC,)
    listen: Listen = Listen()
    routing: Routing = Routing()
    failover: Failover = Failover()
    timeouts: Timeouts = Timeouts()
    security: Security = Security()
    usage: Usage = Usage()

    def endpoint(self, name: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.name == name), None)

    def with_routing(self, **changes: Any) -> Config:
        return replace(self, routing=replace(self.routing, **changes))


def is_loopback_host(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------- parsing helpers


def _expect_mapping(value: object, path: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FieldError(path, f"expected a mapping of keys to values, got {_show(value)}")
    return value


def _reject_unknown(data: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
    for key in data:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise FieldError(where, f"unknown key; allowed here: {', '.join(allowed)}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _string(value: object, path: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise FieldError(path, f"{_show(value)} is not allowed; expected a non-empty string")
    if "\r" in value or "\n" in value or "\x00" in value:
        raise FieldError(path, "line breaks and NUL characters are not allowed")
    return value


def _choice(value: object, allowed: tuple[Choice, ...], path: str) -> Choice:
    for option in allowed:
        if value == option:
            return option
    raise FieldError(path, f"{_show(value)} is not allowed; use one of {', '.join(allowed)}")


def _boolean(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise FieldError(path, f"{_show(value)} is not allowed; use true or false")
    return value


def _number(value: object, path: str, *, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(path, f"{_show(value)} is not a number of seconds")
    if not low <= value <= high:
        raise FieldError(path, f"{value} is out of range; use {low:g} to {high:g}")
    return float(value)


def _port(value: object, path: str) -> int:
    if isinstance(value, str) and _DIGITS_RE.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise FieldError(
            path, f"{_show(value)} is not allowed; use a port from 1 to 65535 (0: any free port)"
        )
    return value


# ---------------------------------------------------------------- sections


def substitute_env(value: Any, env: Mapping[str, str], path: str = "") -> Any:
    """Replace `${VAR}` in every string of `value` from `env`; unset variables are errors."""
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise FieldError(path, f"${{{name}}} is used but the environment has no {name}")
            return env[name]

        return _SUBST_RE.sub(lookup, value)
    if isinstance(value, Mapping):
        return {k: substitute_env(v, env, _join(path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_env(v, env, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def parse_base_url(value: object, path: str) -> str:
    url = _string(value, path).strip()
    if _URL_UNSAFE_RE.search(url):
        raise FieldError(path, f"{_show(value)}: a URL has no spaces or control characters")
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(
            parts.hostname and _HOSTNAME_RE.fullmatch(parts.hostname)
        )
        _ = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError:
        valid = False
    if not valid:
        raise FieldError(
            path, f"{_show(value)} is not an http:// or https:// URL such as https://host/path"
        )
    if parts.query or parts.fragment:
        raise FieldError(path, f"{_show(value)}: a base URL takes no ?query or #fragment")
    return url.rstrip("/")


def parse_key_source(value: object, path: str) -> KeySource:
    if value is None or value == "keyring":
        return KeySource()
    if isinstance(value, str) and value.startswith("env:"):
        var = value[4:]
        if _ENV_VAR_RE.fullmatch(var):
            return KeySource(kind="env", env_var=var)
    shown = _show(value) if not isinstance(value, str) or value.startswith("env:") else None
    raise FieldError(
        path,
        f"{shown or 'the value (not shown: it may be a key)'} is not allowed; use keyring "
        "(the OS keyring) or env:VAR_NAME. Keys are never written in the config file",
    )


def parse_models(value: object, path: str) -> tuple[tuple[str, str], ...]:
    data = _expect_mapping(value, path)
    rows = []
    for pattern, target in data.items():
        where = f"{path}.{pattern}"
        rows.append((_string(pattern, where), _string(target, where)))
    return tuple(rows)


def parse_headers(value: object, path: str) -> tuple[tuple[str, str | None], ...]:
    data = _expect_mapping(value, path)
    rows: list[tuple[str, str | None]] = []
    for name, header_value in data.items():
        where = f"{path}.{name}"
        if not isinstance(name, str) or not _HEADER_NAME_RE.fullmatch(name):
            raise FieldError(where, "not a valid HTTP header name")
        if any(existing == name.lower() for existing, _ in rows):
            raise FieldError(where, "given twice (header names ignore case)")
        if header_value is None:
            rows.append((name.lower(), None))
            continue
        number = isinstance(header_value, int | float) and not isinstance(header_value, bool)
        text = str(header_value) if number else header_value
        rows.append((name.lower(), _string(text, where, allow_empty=True)))
    return tuple(rows)


LIMIT_COUNTS = ("max_output_tokens", "context_tokens", "tools")
LIMIT_KEYS = (*LIMIT_COUNTS, "images")


def _count(value: object, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000_000:
        raise FieldError(path, f"{_show(value)} is not allowed; use a whole number from 1 up")
    return value


def parse_limits(value: object, path: str) -> Limits:
    data = _expect_mapping(value, path)
    _reject_unknown(data, LIMIT_KEYS, path)
    images = data.get("images", True)
    return Limits(
        max_output_tokens=_count(data.get("max_output_tokens"), f"{path}.max_output_tokens"),
        context_tokens=_count(data.get("context_tokens"), f"{path}.context_tokens"),
        images=_boolean(True if images is None else images, f"{path}.images"),
        tools=_count(data.get("tools"), f"{path}.tools"),
    )


def limits_to_dict(limits: Limits) -> dict[str, Any]:
    """The limits that are set (an empty dict for none)."""
    data: dict[str, Any] = {
        name: getattr(limits, name) for name in LIMIT_COUNTS if getattr(limits, name) is not None
    }
    if not limits.images:
        data["images"] = False
    return data


ENDPOINT_KEYS: tuple[str, ...] = (
    "name", "base_url", "format", "auth", "key", "models", "headers", "enabled",
)  # fmt: skip
ENDPOINT_KEYS += ("ca_file", "price", "limits")


def parse_price(value: object, path: str) -> Price | None:
    if value is None:
        return None
    data = _expect_mapping(value, path)
    _reject_unknown(data, PRICE_KINDS, path)
    amounts = {}
    for kind in PRICE_KINDS:
        amount = data.get(kind, 0)
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            raise FieldError(f"{path}.{kind}", f"{_show(amount)} is not a price in USD per Mtok")
        amounts[kind] = float(amount)
    return Price(**amounts)


def parse_endpoint(value: object, path: str) -> Endpoint:
    data = _expect_mapping(value, path)
    _reject_unknown(data, ENDPOINT_KEYS, path)
    name = _string(data.get("name"), f"{path}.name")
    if not _NAME_RE.fullmatch(name):
        raise FieldError(
            f"{path}.name",
            f"{_show(name)} is not allowed; use letters, digits, '.', '_' or '-' (max 64)",
        )
    if "base_url" not in data:
        raise FieldError(f"{path}.base_url", "missing; every endpoint needs its API's base URL")
    return Endpoint(
        name=name,
        base_url=parse_base_url(data["base_url"], f"{path}.base_url"),
        format=_choice(data.get("format", "anthropic"), FORMATS, f"{path}.format"),
        auth=_choice(data.get("auth", "client"), AUTHS, f"{path}.auth"),
        key=parse_key_source(data.get("key"), f"{path}.key"),
        models=parse_models(data.get("models"), f"{path}.models"),
        headers=parse_headers(data.get("headers"), f"{path}.headers"),
        enabled=_boolean(data.get("enabled", True), f"{path}.enabled"),
        ca_file=parse_ca_file(data.get("ca_file"), f"{path}.ca_file"),
        price=parse_price(data.get("price"), f"{path}.price"),
        limits=parse_limits(data.get("limits"), f"{path}.limits"),
    )


def parse_ca_file(value: object, path: str) -> str | None:
    return None if value is None or value == "" else _string(value, path).strip()


def parse_endpoints(value: object) -> tuple[Endpoint, ...]:
    if value is None:
        return Config().endpoints
    if not isinstance(value, list) or not value:
        raise FieldError(
            "endpoints",
            f"{_show(value)} is not allowed; expected a non-empty list of endpoints, in order",
        )
    endpoints = tuple(parse_endpoint(item, f"endpoints[{i}]") for i, item in enumerate(value))
    if not any(e.enabled for e in endpoints):
        raise FieldError("endpoints", "every endpoint is disabled; enable at least one")
    seen: set[str] = set()
    for i, endpoint in enumerate(endpoints):
        if endpoint.name in seen:
            raise FieldError(f"endpoints[{i}].name", f"{endpoint.name!r} is used twice")
        seen.add(endpoint.name)
    return endpoints


def parse_listen(value: object, env: Mapping[str, str]) -> Listen:
    data = _expect_mapping(value, "listen")
    _reject_unknown(data, ("host", "port"), "listen")
    host_path, port_path = _listen_source(env, "CCF_HOST"), _listen_source(env, "CCF_PORT")
    host = _string(env.get("CCF_HOST") or data.get("host", DEFAULT_HOST), host_path)
    port_value = env.get("CCF_PORT") or data.get("port", DEFAULT_PORT)
    return Listen(host=host.strip(), port=_port(port_value, port_path))


def _listen_source(env: Mapping[str, str], var: str) -> str:
    """The key path an error in `listen` blames: the environment variable when it is set."""
    return var if env.get(var) else f"listen.{var.removeprefix('CCF_').lower()}"


def parse_status_rules(value: object, path: str) -> tuple[int | str, ...]:
    if not isinstance(value, list):
        raise FieldError(path, f"{_show(value)} is not allowed; use a list such as [429, 5xx]")
    rules: list[int | str] = []
    for i, item in enumerate(value):
        if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599:
            rules.append(item)
        elif isinstance(item, str) and _STATUS_CLASS_RE.fullmatch(item.strip().lower()):
            rules.append(item.strip().lower())
        elif (
            isinstance(item, str) and _DIGITS_RE.fullmatch(item.strip()) and 100 <= int(item) <= 599
        ):
            rules.append(int(item))
        else:
            raise FieldError(
                f"{path}[{i}]", f"{_show(item)} is not an HTTP status or class like 5xx"
            )
    return tuple(rules)


def parse_failover(value: object) -> Failover:
    data = _expect_mapping(value, "failover")
    _reject_unknown(data, ("on_status", "cooldown_seconds", "max_cooldown_seconds"), "failover")
    defaults = Failover()
    first = _number(
        data.get("cooldown_seconds", defaults.cooldown_seconds),
        "failover.cooldown_seconds",
        low=0,
        high=86400,
    )
    cap = _number(
        data.get("max_cooldown_seconds", defaults.max_cooldown_seconds),
        "failover.max_cooldown_seconds",
        low=0,
        high=7 * 86400,
    )
    if cap < first:
        raise FieldError(
            "failover.max_cooldown_seconds", f"{cap:g} is below cooldown_seconds ({first:g})"
        )
    rules = data.get("on_status")
    return Failover(
        on_status=defaults.on_status
        if rules is None
        else parse_status_rules(rules, "failover.on_status"),
        cooldown_seconds=first,
        max_cooldown_seconds=cap,
    )


def _or_default(value: object, default: object) -> object:
    return default if value is None else value


def parse_timeouts(value: object) -> Timeouts:
    """Timeouts in seconds; a key not given or null takes its default."""
    data = _expect_mapping(value, "timeouts")
    _reject_unknown(data, ("connect", "first_byte", "idle"), "timeouts")
    defaults = Timeouts()
    values = {
        name: _number(
            _or_default(data.get(name), getattr(defaults, name)),
            f"timeouts.{name}",
            low=0.01,
            high=3600,
        )
        for name in ("connect", "idle")
    }
    first_byte = data.get("first_byte")
    if first_byte is not None:
        first_byte = _number(first_byte, "timeouts.first_byte", low=0.01, high=3600)
    return Timeouts(**values, first_byte=first_byte)


def parse_routing(value: object, endpoints: tuple[Endpoint, ...]) -> Routing:
    data = _expect_mapping(value, "routing")
    _reject_unknown(data, ("pinned", "paused"), "routing")
    pinned = data.get("pinned")
    names = [e.name for e in endpoints]
    if pinned is not None and pinned not in names:
        raise FieldError(
            "routing.pinned",
            f"{_show(pinned)} is not an endpoint; use one of {', '.join(names)} or null",
        )
    return Routing(pinned=pinned, paused=_boolean(data.get("paused", False), "routing.paused"))


def parse_security(value: object) -> Security:
    data = _expect_mapping(value, "security")
    _reject_unknown(data, ("access_token",), "security")
    token = data.get("access_token")
    if token is None:
        return Security()
    text = _string(token, "security.access_token")
    if len(text) < 16:
        raise FieldError("security.access_token", "too short; use at least 16 random characters")
    return Security(access_token=Secret(text))


def parse_usage(value: object) -> Usage:
    data = _expect_mapping(value, "usage")
    _reject_unknown(data, ("retention_days",), "usage")
    days = data.get("retention_days", Usage().retention_days)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
        raise FieldError(
            "usage.retention_days", f"{_show(days)} is not allowed; use whole days, 1 to 3650"
        )
    return Usage(retention_days=days)


TOP_KEYS = ("listen", "endpoints", "routing", "failover", "timeouts", "security", "usage")


def parse_config(raw: object, env: Mapping[str, str]) -> Config:
    """Build a `Config` from parsed YAML data; raise `FieldError` on the first bad value."""
    try:
        return _parse_config(raw, env)
    except RecursionError:
        raise FieldError("", "nested too deeply, or a YAML alias refers to itself") from None


def _parse_config(raw: object, env: Mapping[str, str]) -> Config:
    data = _expect_mapping(raw, "")
    _reject_unknown(data, TOP_KEYS, "")
    data = substitute_env(dict(data), env)
    endpoints = parse_endpoints(data.get("endpoints"))
    config = Config(
        endpoints=endpoints,
        listen=parse_listen(data.get("listen"), env),
        routing=parse_routing(data.get("routing"), endpoints),
        failover=parse_failover(data.get("failover")),
        timeouts=parse_timeouts(data.get("timeouts")),
        security=parse_security(data.get("security")),
        usage=parse_usage(data.get("usage")),
    )
    check_exposure(config, _listen_source(env, "CCF_HOST"))
    return config


def check_exposure(config: Config, host_path: str = "listen.host") -> None:
    if not is_loopback_host(config.listen.host) and config.security.access_token is None:
        raise FieldError(
            host_path,
            f"{config.listen.host!r} is reachable from other machines; set "
            "security.access_token (clients send it as x-ccf-token) or listen on 127.0.0.1",
        )


# ---------------------------------------------------------------- back to plain data


def endpoint_to_dict(endpoint: Endpoint) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": endpoint.name,
        "base_url": endpoint.base_url,
        "format": endpoint.format,
        "auth": endpoint.auth,
    }
    if endpoint.needs_key or endpoint.key != KeySource():
        data["key"] = str(endpoint.key)
    data["models"] = dict(endpoint.models)
    data["headers"] = dict(endpoint.headers)
    data["enabled"] = endpoint.enabled
    if endpoint.ca_file:
        data["ca_file"] = endpoint.ca_file
    if endpoint.price is not None:
        data["price"] = {kind: getattr(endpoint.price, kind) for kind in PRICE_KINDS}
    limits = limits_to_dict(endpoint.limits)
    if limits:
        data["limits"] = limits
    return data


def config_to_dict(config: Config) -> dict[str, Any]:
    """Plain data that `parse_config` turns back into an equal `Config` (keys are never in it)."""
    token = config.security.access_token
    return {
        "listen": {"host": config.listen.host, "port": config.listen.port},
        "endpoints": [endpoint_to_dict(e) for e in config.endpoints],
        "routing": {"pinned": config.routing.pinned, "paused": config.routing.paused},
        "failover": {
            "on_status": list(config.failover.on_status),
            "cooldown_seconds": config.failover.cooldown_seconds,
            "max_cooldown_seconds": config.failover.max_cooldown_seconds,
        },
        "timeouts": {
            "connect": config.timeouts.connect,
            "first_byte": config.timeouts.first_byte,
            "idle": config.timeouts.idle,
        },
        "security": {"access_token": token.value if token else None},
        "usage": {"retention_days": config.usage.retention_days},
    }
