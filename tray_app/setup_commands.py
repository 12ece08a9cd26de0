"""The `ccf` commands for setting up and moving in: doctor, stop-using, import, export."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from tray_app.doctor_cli import add_doctor_commands, run_doctor_command
from tray_app.import_cli import add_import_commands, run_import_command

Runner = Callable[[argparse.Namespace, Mapping[str, str]], int]
RUNNERS: dict[str, Runner] = {
    "doctor": run_doctor_command,
    "stop-using": run_doctor_command,
    "import": run_import_command,
}


def add_setup_commands(subparsers: Any) -> None:
    add_doctor_commands(subparsers)
    add_import_commands(subparsers)


def run_setup_command(args: argparse.Namespace, env: Mapping[str, str]) -> int | None:
    """The exit code of one of these commands; None when `args` names another."""
    runner = RUNNERS.get(args.command or "")
    return runner(args, env) if runner else None
