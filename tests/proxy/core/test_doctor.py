"""The set-up checks: each broken case gives its finding and its fix."""

from __future__ import annotations

from dataclasses import replace

import pytest

from proxy.core.config import Config, Endpoint, KeySource, Secret, Security
from proxy.core.doctor import (
    STOP_USING,
    WRITE_SETTINGS,
    AutostartFacts,
    ClaudeFacts,
    Facts,
    Finding,
    ProbeOutcome,
    diagnose,
    worst,
)

OURS = "http://127.0.0.1:8765"
OPENROUTER = Endpoint(
    name="openrouter",
    base_url="https://openrouter.example",
    auth="bearer",
    models=(("claude-haiku-*", "anthropic/claude-haiku-4.5"),),
)
CONFIG = Config(endpoints=(Config().endpoints[0], OPENROUTER))


def facts(**changes: object) -> Facts:
    claude = ClaudeFacts(
        settings_path="/h/.claude/settings.json",
        settings_env={"ANTHROPIC_BASE_URL": OURS},
        backup_exists=True,
    )
    base = Facts(
        proxy_url=OURS,
        port=8765,
        config=CONFIG,
        config_path="/h/.config/ccf/config.yaml",
        claude=claude,
        listening={OURS: True},
        port_state="ours",
        keyring_error="",
        probes={
            "anthropic": ProbeOutcome(401, 120.0, "invalid x-api-key"),
            "openrouter": ProbeOutcome(200, 340.0, "", "anthropic/claude-haiku-4.5"),
        },
        autostart=AutostartFacts(True, "/h/.config/autostart/ccf.desktop", "/usr/bin/ccf"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def claude(**changes: object) -> ClaudeFacts:
    return replace(facts().claude, **changes)  # type: ignore[arg-type]


def by_check(findings: list[Finding], check: str) -> Finding:
    return next(f for f in findings if f.check == check)


def test_a_correct_set_up_has_nothing_to_fix() -> None:
    findings = diagnose(facts())
    assert worst(findings) == "ok", findings
    assert (
        "reachable (401 in 120 ms); it uses Claude Code's own login"
        in by_check(findings, "endpoint:anthropic").finding
    )
    assert "answered 200 in 340 ms" in by_check(findings, "endpoint:openrouter").finding


def test_a_fresh_home() -> None:
    fresh = facts(
        config=Config(),
        config_exists=False,
        claude=ClaudeFacts(settings_path="/h/.claude/settings.json"),
        listening={},
        port_state="free",
        probes=None,
        autostart=AutostartFacts(False, "/h/.config/autostart/ccf.desktop"),
    )
    findings = diagnose(fresh)
    assert "built-in default" in by_check(findings, "config").finding
    settings = by_check(findings, "claude-settings")
    assert (settings.level, settings.action) == ("warn", WRITE_SETTINGS)
    assert by_check(findings, "port").finding.endswith("the proxy is not running now.")
    assert worst(findings) == "warn"


def test_a_broken_config_file_fails() -> None:
    finding = by_check(diagnose(facts(config_error="line 3: endpoints[0].auth: 'x'")), "config")
    assert finding.level == "fail"
    assert "line 3" in finding.finding


def test_settings_json_pointing_elsewhere() -> None:
    finding = by_check(
        diagnose(facts(claude=claude(settings_env={"ANTHROPIC_BASE_URL": "https://old.example"}))),
        "claude-settings",
    )
    assert finding.level == "warn"
    assert "sends Claude Code to https://old.example, not to this proxy" in finding.finding
    assert finding.action == WRITE_SETTINGS


def test_an_old_base_url_in_the_shell() -> None:
    finding = by_check(
        diagnose(facts(claude=claude(shell_env={"ANTHROPIC_BASE_URL": "https://old.example"}))),
        "shell",
    )
    assert finding.level == "warn"
    assert "old ANTHROPIC_BASE_URL=https://old.example" in finding.finding


def test_a_base_url_where_nothing_listens() -> None:
    findings = diagnose(facts(listening={OURS: False}, port_state="free"))
    dead = by_check(findings, "dead-port")
    assert dead.level == "fail"
    assert f"is {OURS}, where nothing listens" in dead.finding
    assert dead.action == STOP_USING


def test_api_key_with_auth_token_conflict() -> None:
    both = {"ANTHROPIC_API_KEY": "sk-a", "ANTHROPIC_AUTH_TOKEN": "tok"}
    finding = by_check(diagnose(facts(claude=claude(shell_env=both))), "conflict")
    assert finding.level == "warn"
    assert "Both ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN" in finding.finding


def test_an_access_token_the_client_does_not_send() -> None:
    secured = replace(CONFIG, security=Security(access_token=Secret("t" * 20)))
    finding = by_check(diagnose(facts(config=secured)), "conflict")
    assert (finding.level, finding.action) == ("fail", WRITE_SETTINGS)


def test_a_model_override_the_fallback_cannot_map() -> None:
    env = {"ANTHROPIC_BASE_URL": OURS, "ANTHROPIC_MODEL": "claude-opus-4-1"}
    finding = by_check(diagnose(facts(claude=claude(settings_env=env))), "models")
    assert finding.level == "warn"
    assert "asks for claude-opus-4-1" in finding.finding
    assert "openrouter" in finding.finding
    mapped = {"ANTHROPIC_BASE_URL": OURS, "ANTHROPIC_MODEL": "claude-haiku-4-5"}
    assert not [
        f for f in diagnose(facts(claude=claude(settings_env=mapped))) if f.check == "models"
    ]
    alias = claude(settings_env={"ANTHROPIC_BASE_URL": OURS}, settings_model="opus")
    assert not [f for f in diagnose(facts(claude=alias)) if f.check == "models"]


def test_missing_backup_is_said() -> None:
    finding = by_check(diagnose(facts(claude=claude(backup_exists=False))), "backup")
    assert finding.level == "info"
    assert "remove the proxy's variables instead" in finding.finding


@pytest.mark.parametrize(
    ("status", "meaning", "level"),
    [
        (401, "key refused", "fail"),
        (403, "key refused", "fail"),
        (404, "model anthropic/claude-haiku-4.5 not found", "fail"),
        (429, "rate-limited", "warn"),
        (503, "failing on its side", "warn"),
        (400, "refused the test request", "warn"),
    ],
)
def test_endpoint_answers_are_explained(status: int, meaning: str, level: str) -> None:
    probes = {"openrouter": ProbeOutcome(status, 80.0, "said no", "anthropic/claude-haiku-4.5")}
    finding = by_check(diagnose(facts(probes=probes)), "endpoint:openrouter")
    assert meaning in finding.finding
    assert finding.level == level
    assert f"(HTTP {status} in 80 ms): said no" in finding.finding


def test_an_unreachable_endpoint() -> None:
    probes = {"openrouter": ProbeOutcome(None, 2.0, "openrouter: cannot connect to x:443")}
    finding = by_check(diagnose(facts(probes=probes)), "endpoint:openrouter")
    assert finding.level == "fail"
    assert "unreachable" in finding.finding


def test_an_endpoint_without_its_key() -> None:
    problems = {"openrouter": "environment variable OR_KEY is not set"}
    finding = by_check(diagnose(facts(key_problems=problems)), "endpoint:openrouter")
    assert finding.level == "fail"
    assert "ccf key set openrouter" in finding.fix


def test_no_keyring() -> None:
    finding = by_check(diagnose(facts(keyring_error="No usable OS keyring")), "keyring")
    assert finding.level == "fail"
    assert finding.finding.startswith("openrouter need it")
    env_only = replace(OPENROUTER, key=KeySource(kind="env", env_var="OR_KEY"))
    alone = facts(config=Config(endpoints=(env_only,)), keyring_error="No usable OS keyring")
    assert by_check(diagnose(alone), "keyring").level == "warn"


def test_the_port_taken_by_another_program() -> None:
    finding = by_check(diagnose(facts(port_state="taken")), "port")
    assert finding.level == "fail"
    assert finding.finding == "Port 8765 on 127.0.0.1 is in use by another program."


def test_start_at_login_pointing_at_a_program_that_is_gone() -> None:
    gone = AutostartFacts(True, "/h/.config/autostart/ccf.desktop", "/old/ccf", False)
    finding = by_check(diagnose(facts(autostart=gone)), "autostart")
    assert finding.level == "warn"
    assert "/old/ccf" in finding.finding
