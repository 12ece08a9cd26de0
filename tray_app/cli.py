"""The `ccf` command."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
from collections.abc import Callable

from proxy import PRODUCT_NAME, __version__
from proxy.config_file import config_path, load_config
from proxy.core.errors import CcfError, ConfigError
from proxy.keys import SystemKeyring
from proxy.running import ProxySetup
from tray_app.import_cli import add_transfer_commands, run_config_transfer
from tray_app.keys_cli import add_key_commands, run_key_command
from tray_app.logs import register_secret, setup_logging
from tray_app.settings_cli import open_settings_for_running_instance
from tray_app.setup_commands import add_setup_commands, run_setup_command
from tray_app.usage_cli import add_usage_command, run_usage

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccf", description=f"{PRODUCT_NAME} {__version__}")
    parser.add_argument("--version", action="version", version=f"ccf {__version__}")
    parser.add_argument("--config", help="config file (default: CCF_CONFIG or the user config dir)")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the proxy in the foreground, no GUI")
    serve.add_argument("--config", dest="serve_config", help="config file")
    serve.add_argument("--host", help="listen address (overrides listen.host)")
    serve.add_argument("--port", type=int, help="listen port (overrides listen.port)")
    config = commands.add_parser("config", help="where the config is, and whether it is valid")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    config_commands.add_parser("path", help="print the config file's path")
    config_commands.add_parser("validate", help="check the config file and say what is wrong")
    add_transfer_commands(config_commands)
    add_key_commands(commands)
    add_usage_command(commands)
    commands.add_parser("settings", help="open the settings window of the running instance")
    add_setup_commands(commands)
    return parser


def fail(message: str) -> int:
    print(f"ccf: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_serve(args: argparse.Namespace, env: dict[str, str]) -> int:
    from proxy.foreground import announce_move, serve_until_stopped

    flags: dict[str, str] = {}
    if args.host:
        env["CCF_HOST"], flags["CCF_HOST"] = args.host, "--host"
    if args.port is not None:
        env["CCF_PORT"], flags["CCF_PORT"] = str(args.port), "--port"
    try:
        path = config_path(args.serve_config or args.config, env)
        config = load_config(path, env)
        setup_logging(console=True)
        setup = ProxySetup(
            path, env, SystemKeyring(), secret_sink=register_secret, announce=announce_move
        )
        asyncio.run(serve_until_stopped(setup, config))
    except ConfigError as exc:
        return fail(blame_flag(exc, flags))
    except CcfError as exc:
        return fail(str(exc))
    return 0


def blame_flag(exc: ConfigError, flags: dict[str, str]) -> str:
    """The error in terms of the flag that set the value, when a flag did; else as it is."""
    flag = flags.get(exc.path)
    if flag is None:
        return str(exc)
    return f"{flag}: {str(exc).partition(f'{exc.path}: ')[2]}"


def cmd_config(args: argparse.Namespace, env: dict[str, str]) -> int:
    if args.config_command in ("export", "import"):
        return run_config_transfer(args, env)
    path = config_path(args.config, env)
    if args.config_command == "path":
        print(path)
        return 0
    try:
        config = load_config(path, env)
    except ConfigError as exc:
        return fail(str(exc))
    source = path if path.exists() else f"{path} (not there: the built-in default)"
    names = ", ".join(e.name for e in config.endpoints)
    print(f"{source}: valid; endpoints in order: {names}")
    return 0


Command = Callable[[argparse.Namespace, dict[str, str]], int]
COMMANDS: dict[str, Command] = {
    "config": cmd_config,
    "key": run_key_command,
    "usage": lambda args, _env: run_usage(args),
    "settings": lambda args, env: open_settings_for_running_instance(args.config, env),
}


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    args = build_parser().parse_args(argv)
    env = dict(os.environ)
    command = COMMANDS.get(args.command or "")
    if command is not None:
        return command(args, env)
    done = run_setup_command(args, env)
    if done is not None:
        return done
    if args.command is None:
        from tray_app.app import run_app

        return run_app(args.config, env)
    return cmd_serve(args, env)
