"""Moving in: providers configured in other tools, as endpoints of this one.

Pure: parsed JSON (or cc-switch's database rows) in, `Candidate`s out. Formats:

- cc-switch: its database `~/.cc-switch/cc-switch.db` (rows of the `providers` table; the
  current store), and before that `~/.cc-switch/config.json`: version 2
  (`{"version": 2, "claude": {"providers": {…}, "current": …}}`) or version 1
  (`{"providers": {…}, "current": …}`). A provider's `settingsConfig.env` is what it
  writes into Claude Code's settings.json.
- claude-code-router: `~/.claude-code-router/config.json`, a `Providers` list of
  `{name, api_base_url, api_key, models, transformer}` and a `Router` of "provider,model".
- Claude Code: `~/.claude/settings.json`, whose `env` may already send it elsewhere.

A parser raises `ImportFormatError` (a `ValueError`) saying what in the data is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from proxy.core.claude_settings import points_at
from proxy.core.config import FieldError, Secret, parse_base_url

HAIKU, SONNET, OPUS, ANY = "claude-haiku-*", "claude-sonnet-*", "claude-opus-*", "*"
MODEL_ROWS = (  # Claude Code's variables -> the model-map row that does the same
    ("ANTHROPIC_DEFAULT_HAIKU_MODEL", HAIKU),
    ("ANTHROPIC_SMALL_FAST_MODEL", HAIKU),
    ("ANTHROPIC_DEFAULT_SONNET_MODEL", SONNET),
    ("ANTHROPIC_DEFAULT_OPUS_MODEL", OPUS),
    ("ANTHROPIC_MODEL", ANY),
)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_ENV_REF = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


class ImportFormatError(ValueError):
    """The data is not one of the formats this module reads, or a provider in it is broken."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One provider that can become an endpoint; `skipped` says why it cannot."""

    name: str
    source: str
    fields: Mapping[str, Any] = field(default_factory=dict)  # the endpoint, as config data
    key: Secret | None = None
    skipped: str = ""

    def summary(self) -> dict[str, Any]:
        """What the user is shown before choosing: never the key, only whether there is one."""
        return {
            "name": self.name,
            "source": self.source,
            "base_url": self.fields.get("base_url", ""),
            "format": self.fields.get("format", "anthropic"),
            "auth": self.fields.get("auth", ""),
            "key": "…" + self.key.last4 if self.key and self.key.last4 else bool(self.key),
            "key_source": self.fields.get("key", ""),
            "models": dict(self.fields.get("models", {})),
            "skipped": self.skipped,
        }


def endpoint_name(text: str, taken: Iterable[str] = ()) -> str:
    """A valid endpoint name from a display name, unlike any in `taken`."""
    base = _UNSAFE_NAME.sub("-", text.strip()).strip("-._")[:56] or "imported"
    if not base[0].isalnum():
        base = "p" + base
    used, name, n = {t.lower() for t in taken}, base, 2
    while name.lower() in used:
        name, n = f"{base}-{n}", n + 1
    return name


def model_rows(env: Mapping[str, Any]) -> dict[str, str]:
    rows: dict[str, str] = {}
    for variable, pattern in MODEL_ROWS:
        value = env.get(variable)
        if isinstance(value, str) and value.strip() and pattern not in rows:
            rows[pattern] = value.strip()
    return rows


def _base_url(value: object, where: str) -> str:
    try:
        return parse_base_url(value, "base_url")
    except FieldError as exc:
        raise ImportFormatError(f"{where}: the base URL {exc.detail}") from None


def from_claude_env(
    name: str, env: Mapping[str, Any], source: str, own_port: int | None = None
) -> Candidate:
    """A provider given as Claude Code's variables (cc-switch, settings.json)."""
    url = env.get("ANTHROPIC_BASE_URL")
    if not isinstance(url, str) or not url.strip():
        return Candidate(name, source, skipped="no ANTHROPIC_BASE_URL: Claude's own login")
    if own_port is not None and points_at(url, own_port):
        return Candidate(name, source, skipped="that is this proxy")
    token, api_key = env.get("ANTHROPIC_AUTH_TOKEN"), env.get("ANTHROPIC_API_KEY")
    secret, auth = (token, "bearer") if isinstance(token, str) and token else (api_key, "x-api-key")
    fields: dict[str, Any] = {
        "name": name,
        "base_url": _base_url(url, f"{source}: {name}"),
        "auth": auth if isinstance(secret, str) and secret else "client",
        "models": model_rows(env),
    }
    if fields["auth"] == "client":
        return Candidate(name, source, fields)
    return Candidate(name, source, {**fields, "key": "keyring"}, Secret(str(secret).strip()))


# ---------------------------------------------------------------- cc-switch


def cc_switch_providers(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The Claude providers of a cc-switch config.json, version 2 or version 1."""
    section: Any = data.get("claude") if "claude" in data else data
    if not isinstance(section, Mapping) or not isinstance(section.get("providers"), Mapping):
        raise ImportFormatError('no "claude": {"providers": {…}} (cc-switch version 2) or '
                                'top-level "providers" (version 1)')  # fmt: skip
    providers = list(section["providers"].values())
    if not all(isinstance(p, Mapping) for p in providers):
        raise ImportFormatError('a provider in "providers" is not an object')
    return sorted(providers, key=lambda p: (_sort_index(p), str(p.get("name", ""))))


def _sort_index(provider: Mapping[str, Any]) -> int:
    index = provider.get("sortIndex", provider.get("sort_index"))
    return index if isinstance(index, int) else 1 << 30


def from_cc_switch(providers: Sequence[Mapping[str, Any]], own_port: int | None) -> list[Candidate]:
    found: list[Candidate] = []
    for provider in providers:
        label = str(provider.get("name") or provider.get("id") or "provider")
        settings = provider.get("settingsConfig", provider.get("settings_config"))
        if not isinstance(settings, Mapping) or not isinstance(settings.get("env", {}), Mapping):
            raise ImportFormatError(f'provider {label!r}: "settingsConfig" has no "env" object')
        name = endpoint_name(label, [c.name for c in found])
        found.append(from_claude_env(name, settings.get("env", {}), "cc-switch", own_port))
    return found


# ---------------------------------------------------------------- claude-code-router


def ccr_base(url: str, where: str) -> tuple[str, str]:
    """(format, base_url) from claude-code-router's full endpoint URL."""
    url = url.strip().rstrip("/")
    for suffix, wire in (("/chat/completions", "openai"), ("/v1/messages", "anthropic")):
        if url.endswith(suffix):
            return wire, _base_url(url[: -len(suffix)], where)
    raise ImportFormatError(
        f"{where}: api_base_url {url!r} is neither …/chat/completions nor …/v1/messages"
    )


def router_rows(router: Mapping[str, Any], provider: str) -> dict[str, str]:
    """The model map a provider gets from CCR's Router ("provider,model" per scenario)."""
    rows: dict[str, str] = {}
    for scenario, pattern in (("background", HAIKU), ("default", ANY)):
        route = router.get(scenario)
        if isinstance(route, str) and "," in route:
            name, model = route.split(",", 1)
            if name.strip() == provider:
                rows[pattern] = model.strip()
    return rows


def ccr_key(value: object) -> tuple[str, Secret | None]:
    """CCR keys may name an environment variable ($VAR): that stays a reference."""
    if not isinstance(value, str) or not value.strip():
        return "", None
    match = _ENV_REF.match(value.strip())
    if match:
        return f"env:{match.group(1)}", None
    return "keyring", Secret(value.strip())


def from_ccr(data: Mapping[str, Any]) -> list[Candidate]:
    providers = data.get("Providers", data.get("providers"))
    if not isinstance(providers, list):
        raise ImportFormatError('no "Providers" list (claude-code-router config.json)')
    router = data.get("Router") if isinstance(data.get("Router"), Mapping) else {}
    found: list[Candidate] = []
    for i, provider in enumerate(providers):
        where = f"Providers[{i}]"
        if not isinstance(provider, Mapping) or not isinstance(provider.get("name"), str):
            raise ImportFormatError(f"{where} is not an object with a name")
        found.append(_ccr_candidate(provider, router or {}, where, [c.name for c in found]))
    return found


def _ccr_candidate(
    provider: Mapping[str, Any], router: Mapping[str, Any], where: str, taken: list[str]
) -> Candidate:
    label = provider["name"]
    name = endpoint_name(label, taken)
    url = provider.get("api_base_url")
    if not isinstance(url, str):
        raise ImportFormatError(f"{where} ({label}) has no api_base_url")
    uses = _transformers(provider.get("transformer"))
    if "gemini" in uses or ("generativelanguage.googleapis.com" in url and "/openai" not in url):
        return Candidate(name, "claude-code-router", skipped="Gemini's own API is not supported")
    wire, base = ccr_base(url, f"{where} ({label})")
    models = provider.get("models") if isinstance(provider.get("models"), list) else []
    rows = router_rows(router, label) or ({ANY: str(models[0])} if models else {})
    key_source, secret = ccr_key(provider.get("api_key"))
    fields: dict[str, Any] = {
        "name": name,
        "base_url": base,
        "format": wire,
        "auth": ("bearer" if wire == "openai" else "x-api-key") if key_source else "client",
        "models": rows,
    }
    if key_source:
        fields["key"] = key_source
    return Candidate(name, "claude-code-router", fields, secret)


def _transformers(value: object) -> set[str]:
    uses = value.get("use") if isinstance(value, Mapping) else None
    return {u for u in uses if isinstance(u, str)} if isinstance(uses, list) else set()


# ---------------------------------------------------------------- Claude Code, and detection


def from_claude_settings(data: Mapping[str, Any], own_port: int | None) -> list[Candidate]:
    env = data.get("env")
    if not isinstance(env, Mapping):
        raise ImportFormatError('no "env" object (Claude Code settings.json)')
    url = env.get("ANTHROPIC_BASE_URL")
    host = urlsplit(url).hostname if isinstance(url, str) else None
    label = _provider_label(host or "claude-settings")
    return [from_claude_env(endpoint_name(label), env, "Claude Code settings.json", own_port)]


def _provider_label(host: str) -> str:
    """`api.deepseek.com` -> `deepseek`; an address stays as it is."""
    labels = [p for p in host.split(".") if p not in ("api", "www", "com", "ai", "cn", "io")]
    return labels[0] if labels and not host.replace(".", "").isdigit() else host


def detect(data: object, own_port: int | None = None) -> list[Candidate]:
    """Candidates from parsed JSON of any of the formats above."""
    if not isinstance(data, Mapping):
        raise ImportFormatError("the file is not a JSON object")
    if "Providers" in data or ("providers" in data and isinstance(data["providers"], list)):
        return from_ccr(data)
    if "claude" in data or isinstance(data.get("providers"), Mapping):
        return from_cc_switch(cc_switch_providers(data), own_port)
    if "env" in data:
        return from_claude_settings(data, own_port)
    raise ImportFormatError(
        "not a format this can import: cc-switch (config.json or cc-switch.db), "
        "claude-code-router (config.json) or Claude Code (settings.json)"
    )


def pick(candidates: Sequence[Candidate], names: Sequence[str]) -> list[Candidate]:
    """The importable candidates named (all importable ones when `names` is empty)."""
    usable = [c for c in candidates if not c.skipped]
    if not names:
        return usable
    by_name = {c.name: c for c in usable}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        choices = ", ".join(by_name) or "none"
        raise ImportFormatError(
            f"no importable provider named {', '.join(unknown)}; choose from {choices}"
        )
    return [by_name[n] for n in names]
