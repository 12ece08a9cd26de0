"""`ccf doctor` (the set-up checks) and `ccf stop-using` (Claude Code goes direct again)."""

from __future__ import annotations

import argparse
import asyncio
import json
import plistlib
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from proxy.admin.context import claude_config_dir
from proxy.config_file import config_path
from proxy.core.config import Config
from proxy.core.doctor import (
    STOP_USING,
    WRITE_SETTINGS,
    AutostartFacts,
    Finding,
    diagnose,
    report_json,
    worst,
)
from proxy.doctor.gather import gather, probe_with
from proxy.doctor.stop import StopUsingError, stop_using
from proxy.keys import KeyStore, ResolvedKeys, SystemKeyring, resolve_keys
from proxy.upstream import new_session

EXIT_OK = 0
EXIT_PROBLEMS = 1
CLI_ACTIONS = {
    STOP_USING: "(or run `ccf stop-using`)",
    WRITE_SETTINGS: "(the settings window's Claude Code page has a button for it)",
}
LABELS = {"ok": "  ok", "info": "info", "warn": "warn", "fail": "FAIL"}


def add_doctor_commands(subparsers: Any) -> None:
    doctor = subparsers.add_parser("doctor", help="check the set-up and say how to fix it")
    doctor.add_argument(
        "--no-network", action="store_true", help="skip the one test request per endpoint"
    )
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")
    subparsers.add_parser(
        "stop-using",
        help="give Claude Code's settings.json back the values it had before the proxy",
    )


def run_doctor_command(
    args: argparse.Namespace,
    env: Mapping[str, str],
    store: KeyStore | None = None,
    out: IO[str] | None = None,
) -> int:
    out = out or sys.stdout
    store = store or SystemKeyring()
    if args.command == "stop-using":
        return run_stop_using(args, env, out)
    findings = asyncio.run(check(args, env, store))
    if args.json:
        print(json.dumps(report_json(findings), indent=2), file=out)
    else:
        print(render(findings), file=out)
    return EXIT_PROBLEMS if worst(findings) == "fail" else EXIT_OK


async def check(args: argparse.Namespace, env: Mapping[str, str], store: KeyStore) -> list[Finding]:
    def keys(config: Config) -> ResolvedKeys:
        return resolve_keys(config, store, env)

    path = config_path(getattr(args, "config", None), env)
    session = new_session()
    try:
        facts = await gather(
            config_path=path,
            env=env,
            claude_dir=claude_config_dir(env),
            store=store,
            keys=keys,
            probes=None if args.no_network else probe_with(session),
            autostart=autostart_facts,
        )
    finally:
        await session.close()
    return diagnose(facts)


def render(findings: list[Finding]) -> str:
    lines = ["Claude Code Fallback: set-up check", ""]
    for finding in findings:
        topic = finding.check.partition(":")[0]  # endpoint:NAME: the finding names it
        lines.append(f"[{LABELS[finding.level]}] {topic}: {finding.finding}")
        if finding.fix and finding.level in ("warn", "fail", "info"):
            lines.append(f"       fix: {finding.fix}")
        if finding.action in CLI_ACTIONS:
            lines.append(f"       {CLI_ACTIONS[finding.action]}")
    counts = {level: sum(f.level == level for f in findings) for level in LABELS}
    summary = ", ".join(f"{n} {level}" for level, n in counts.items() if n)
    lines += ["", f"{summary or 'nothing checked'}."]
    return "\n".join(lines)


def run_stop_using(args: argparse.Namespace, env: Mapping[str, str], out: IO[str]) -> int:
    from proxy.config_file import load_config
    from proxy.core.errors import ConfigError

    try:
        port = load_config(config_path(getattr(args, "config", None), env), env).listen.port
    except ConfigError:
        port = Config().listen.port
    try:
        restored = stop_using(claude_config_dir(env), port)
    except StopUsingError as exc:
        print(f"ccf: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(restored.message(), file=out)
    return EXIT_OK


def autostart_facts() -> AutostartFacts | None:
    """Whether start at login is on, and whether what it starts is still there."""
    from tray_app.autostart import for_platform

    autostart = for_platform()
    if autostart is None:
        return None
    if not autostart.is_enabled():
        return AutostartFacts(False, autostart.location)
    program = entry_program(Path(autostart.location))
    exists = not program or Path(program).exists()
    return AutostartFacts(True, autostart.location, program, exists)


def entry_program(path: Path) -> str:
    """The program an XDG .desktop entry or a LaunchAgent plist starts ("" if unknown)."""
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    if path.suffix == ".plist":
        try:
            arguments = plistlib.loads(data).get("ProgramArguments") or [""]
        except (ValueError, plistlib.InvalidFileException):
            return ""
        return str(arguments[0])
    for line in data.decode("utf-8", "replace").splitlines():
        if line.startswith("Exec="):
            value = line[5:].replace("\\\\", "\\").replace("%%", "%")
            try:
                return (shlex.split(value) or [""])[0]
            except ValueError:
                return ""
    return ""
