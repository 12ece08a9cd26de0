"""The set-up checks of `ccf doctor` and the "Check set-up" page: facts in, findings out.

Pure: `proxy.doctor` gathers the facts (files, environment, sockets, one request per
endpoint); every decision about what they mean, and what to do, is made here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from proxy.core.claude_settings import TOKEN_HEADER_PREFIX, points_at
from proxy.core.config import Config, Endpoint, is_loopback_host
from proxy.core.models import map_model

Level = Literal["ok", "info", "warn", "fail"]
BASE_URL = "ANTHROPIC_BASE_URL"
MODEL_VARIABLES = (
    "ANTHROPIC_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
    "CLAUDE_CODE_SUBAGENT_MODEL",
)
CLAUDE_VARIABLES = (
    BASE_URL,
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_CUSTOM_HEADERS",
    *MODEL_VARIABLES,
)
WRITE_SETTINGS = "write-settings"  # the safe fixes a button may run
STOP_USING = "stop-using"
REFRESH_AUTOSTART = "refresh-autostart"


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    level: Level
    finding: str
    fix: str = ""
    action: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """One real request to an endpoint: its status (None: no answer), latency, error text."""

    status: int | None
    latency_ms: float
    error: str = ""
    model: str = ""


@dataclass(frozen=True, slots=True)
class ClaudeFacts:
    settings_path: str = "~/.claude/settings.json"
    settings_env: Mapping[str, str] | None = None  # None: no settings.json
    settings_model: str | None = None
    settings_error: str = ""
    backup_exists: bool = False
    shell_env: Mapping[str, str] = field(default_factory=dict)
    shell_label: str = "your shell's environment"


@dataclass(frozen=True, slots=True)
class AutostartFacts:
    enabled: bool
    location: str
    program: str = ""  # what the entry starts
    program_exists: bool = True


@dataclass(frozen=True, slots=True)
class Facts:
    proxy_url: str
    port: int
    config: Config
    config_path: str
    config_exists: bool = True
    config_error: str = ""
    claude: ClaudeFacts = ClaudeFacts()
    listening: Mapping[str, bool] = field(default_factory=dict)  # loopback base URLs
    port_state: Literal["ours", "free", "taken", "unknown"] = "unknown"
    keyring_error: str | None = None  # None: not checked
    key_problems: Mapping[str, str] = field(default_factory=dict)
    probes: Mapping[str, ProbeOutcome] | None = None  # None: the network was not used
    autostart: AutostartFacts | None = None


def loopback_urls(claude: ClaudeFacts) -> list[str]:
    """The base URLs Claude Code is given that name this machine: is anything there?"""
    urls = [env.get(BASE_URL, "") for env in (claude.settings_env or {}, claude.shell_env)]
    return [u for u in dict.fromkeys(urls) if u and is_loopback_host(_host(u))]


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


# ---------------------------------------------------------------- the config and the machine


def check_config(facts: Facts) -> list[Finding]:
    if facts.config_error:
        text = f"The config file cannot be used: {facts.config_error}"
        fix = f"Fix {facts.config_path} where the message says; `ccf config validate` rechecks it."
        return [Finding("config", "fail", text, fix)]
    if not facts.config_exists:
        text = f"No config file at {facts.config_path} yet: the built-in default is used"
        return [Finding("config", "info", text + " (Anthropic only, with Claude Code's login).")]
    names = ", ".join(e.name for e in facts.config.endpoints)
    return [Finding("config", "ok", f"{facts.config_path} is valid; endpoints in order: {names}.")]


def check_keyring(facts: Facts) -> list[Finding]:
    if facts.keyring_error is None:
        return []
    if facts.keyring_error:
        users = [e.name for e in facts.config.endpoints if e.needs_key and e.key.kind == "keyring"]
        if not users:
            text = "No endpoint needs the keyring yet, but providers you add will: "
            text += facts.keyring_error
            return [Finding("keyring", "warn", text)]
        return [Finding("keyring", "fail", f"{', '.join(users)} need it: {facts.keyring_error}")]
    return [Finding("keyring", "ok", "The OS keyring is usable.")]


def check_port(facts: Facts) -> list[Finding]:
    host, port = facts.config.listen.host, facts.port
    where = f"{host}:{port}"
    if facts.port_state == "ours":
        return [Finding("port", "ok", f"Claude Code Fallback is listening on {where}.")]
    if facts.port_state == "free":
        return [Finding("port", "info", f"Port {where} is free: the proxy is not running now.")]
    if facts.port_state == "taken":
        return [
            Finding(
                "port",
                "fail",
                f"Port {port} on {host} is in use by another program.",
                "Choose another port in Settings → General (or listen.port in the config file).",
            )
        ]
    return []


def check_autostart(facts: Facts) -> list[Finding]:
    auto = facts.autostart
    if auto is None:
        return []
    if not auto.enabled:
        return [Finding("autostart", "info", "Start at login is off.")]
    if not auto.program_exists:
        return [
            Finding(
                "autostart",
                "warn",
                f"Start at login is on, but {auto.location} starts {auto.program}, "
                "which is not there any more (the app moved or was reinstalled).",
                "Turn Start at login off and on again in the tray menu.",
                REFRESH_AUTOSTART,
            )
        ]
    return [Finding("autostart", "ok", f"Start at login is on ({auto.location}).")]


# ---------------------------------------------------------------- Claude Code


def check_settings_file(facts: Facts) -> list[Finding]:
    claude, path = facts.claude, facts.claude.settings_path
    if claude.settings_error:
        text = f"{path} cannot be read: {claude.settings_error}"
        return [Finding("claude-settings", "fail", text, "Fix the file by hand (it must be JSON).")]
    url = (claude.settings_env or {}).get(BASE_URL, "")
    if url and points_at(url, facts.port):
        text = f"Claude Code's {path} points at this proxy ({url})."
        return [Finding("claude-settings", "ok", text)]
    fix = "Write the proxy's variables into settings.json (a backup of the file is kept)."
    if url:
        text = f"{path} sends Claude Code to {url}, not to this proxy ({facts.proxy_url})."
        return [Finding("claude-settings", "warn", text, fix, WRITE_SETTINGS)]
    shell = claude.shell_env.get(BASE_URL, "")
    level: Level = "info" if shell and points_at(shell, facts.port) else "warn"
    text = f"{path} does not set ANTHROPIC_BASE_URL: Claude Code goes to Anthropic directly"
    text += " unless its environment says otherwise." if level == "info" else "."
    return [Finding("claude-settings", level, text, fix, WRITE_SETTINGS)]


def check_shell(facts: Facts) -> list[Finding]:
    claude = facts.claude
    url = claude.shell_env.get(BASE_URL, "")
    if not url:
        return []
    if points_at(url, facts.port):
        text = f"ANTHROPIC_BASE_URL in {claude.shell_label} points at this proxy."
        return [Finding("shell", "ok", text)]
    return [
        Finding(
            "shell",
            "warn",
            f"{claude.shell_label.capitalize()} has an old ANTHROPIC_BASE_URL={url}.",
            "Remove it from your shell profile (~/.bashrc, ~/.zshrc, …) or set it to "
            f"{facts.proxy_url}.",
        )
    ]


def check_dead_ports(facts: Facts) -> list[Finding]:
    found = []
    for url in loopback_urls(facts.claude):
        if facts.listening.get(url, True):
            continue
        in_settings = (facts.claude.settings_env or {}).get(BASE_URL) == url
        where = facts.claude.settings_path if in_settings else facts.claude.shell_label
        found.append(
            Finding(
                "dead-port",
                "fail",
                f"ANTHROPIC_BASE_URL ({where}) is {url}, where nothing listens: Claude Code "
                "fails with “connection refused”.",
                "Start Claude Code Fallback (`ccf`), or stop using the proxy.",
                STOP_USING if in_settings else "",
            )
        )
    return found


def check_conflicts(facts: Facts) -> list[Finding]:
    merged = {**facts.claude.shell_env, **(facts.claude.settings_env or {})}
    if merged.get("ANTHROPIC_API_KEY") and merged.get("ANTHROPIC_AUTH_TOKEN"):
        return [
            Finding(
                "conflict",
                "warn",
                "Both ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN are set: Claude Code reports "
                "an auth conflict and one of them is ignored.",
                "Keep one: unset the one you do not use (settings.json env or shell profile).",
            )
        ]
    header = merged.get("ANTHROPIC_CUSTOM_HEADERS", "")
    token = facts.config.security.access_token
    if token and not header.lower().startswith(TOKEN_HEADER_PREFIX):
        text = "This proxy needs an access token, but ANTHROPIC_CUSTOM_HEADERS does not send it."
        fix = "Write the proxy's variables into settings.json."
        return [Finding("conflict", "fail", text, fix, WRITE_SETTINGS)]
    return []


def requested_models(claude: ClaudeFacts) -> list[tuple[str, str]]:
    """(where, model) for every model override Claude Code is given."""
    found = [("settings.json model", claude.settings_model or "")]
    for source, env in (("settings.json", claude.settings_env or {}), ("env", claude.shell_env)):
        found += [(f"{name} ({source})", env.get(name, "")) for name in MODEL_VARIABLES]
    return [(where, model) for where, model in found if "-" in model]  # not aliases (opus)


def cannot_map(endpoint: Endpoint, model: str) -> bool:
    if not endpoint.enabled or not (endpoint.models or endpoint.format == "openai"):
        return False
    return map_model(model, endpoint.models) == model


def check_models(facts: Facts) -> list[Finding]:
    found = []
    for where, model in requested_models(facts.claude):
        names = [e.name for e in facts.config.endpoints if cannot_map(e, model)]
        if names:
            found.append(
                Finding(
                    "models",
                    "warn",
                    f"{where} asks for {model}, which the model map of {', '.join(names)} "
                    "does not translate: that provider would be sent the name as it is.",
                    f"Add a row for {model} (or a * row) to the model map of {names[0]}.",
                )
            )
    return found


def check_backup(facts: Facts) -> list[Finding]:
    url = (facts.claude.settings_env or {}).get(BASE_URL, "")
    if not url or not points_at(url, facts.port):
        return []
    backup = facts.claude.settings_path + ".ccf-backup"
    if facts.claude.backup_exists:
        text = f"The backup of settings.json is kept ({backup}); Stop using the proxy restores it."
        return [Finding("backup", "ok", text)]
    text = (
        f"There is no backup of settings.json ({backup}); Stop using the proxy will remove "
        "the proxy's variables instead of restoring earlier values."
    )
    return [Finding("backup", "info", text)]


# ---------------------------------------------------------------- endpoints


def check_endpoints(facts: Facts) -> list[Finding]:
    found = []
    for endpoint in facts.config.endpoints:
        check = f"endpoint:{endpoint.name}"
        if not endpoint.enabled:
            found.append(Finding(check, "info", f"{endpoint.name} is disabled."))
        elif endpoint.name in facts.key_problems:
            problem = facts.key_problems[endpoint.name]
            fix = f"Set its key in Settings → Endpoints, or `ccf key set {endpoint.name}`."
            fix = "" if "ccf key set" in problem else fix
            found.append(Finding(check, "fail", f"{endpoint.name}: {problem}.", fix))
        elif facts.probes is not None and endpoint.name in facts.probes:
            found.append(probe_finding(endpoint, facts.probes[endpoint.name]))
    return found


def probe_finding(endpoint: Endpoint, outcome: ProbeOutcome) -> Finding:
    check, name, status = f"endpoint:{endpoint.name}", endpoint.name, outcome.status
    took = f"{outcome.latency_ms:.0f} ms"
    said = f": {outcome.error}" if outcome.error else ""
    if status is None:
        fix = "Check its base URL and your network (HTTPS_PROXY, firewall)."
        return Finding(check, "fail", f"{name} is unreachable ({took}){said}", fix)
    if 200 <= status < 300:
        return Finding(check, "ok", f"{name} is reachable and answered {status} in {took}.")
    if status in (401, 403) and endpoint.auth == "client":
        text = f"{name} is reachable ({status} in {took}); it uses Claude Code's own login."
        return Finding(check, "ok", text)
    meaning, level, fix = status_meaning(status, endpoint, outcome.model)
    return Finding(check, level, f"{name}: {meaning} (HTTP {status} in {took}){said}", fix)


def status_meaning(status: int, endpoint: Endpoint, model: str) -> tuple[str, Level, str]:
    name = endpoint.name
    if status in (401, 403):
        return "key refused", "fail", f"Set its key again: `ccf key set {name}` or Settings."
    if status == 404:
        fix = f"Check {name}'s base URL and that its model map turns requests into {model}."
        return f"model {model} not found, or a wrong base URL", "fail", fix
    if status == 429:
        return "reachable, but rate-limited right now", "warn", ""
    if status >= 500:
        return "reachable, but failing on its side", "warn", "Try again later."
    return "reachable, but it refused the test request", "warn", f"Check {name}'s model map."


CHECKS: tuple[Callable[[Facts], list[Finding]], ...] = (
    check_config,
    check_settings_file,
    check_shell,
    check_dead_ports,
    check_conflicts,
    check_models,
    check_backup,
    check_endpoints,
    check_keyring,
    check_port,
    check_autostart,
)


def diagnose(facts: Facts) -> list[Finding]:
    return [finding for check in CHECKS for finding in check(facts)]


def worst(findings: list[Finding]) -> Level:
    order: tuple[Level, ...] = ("ok", "info", "warn", "fail")
    return max((f.level for f in findings), key=order.index, default="ok")


def report_json(findings: list[Finding]) -> dict[str, Any]:
    return {"worst": worst(findings), "findings": [f.to_json() for f in findings]}
