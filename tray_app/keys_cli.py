"""`ccf key set|delete|list`: endpoint keys in the OS keyring, from the command line.

Keys are read from a hidden prompt or from stdin (`pass show x | ccf key set openrouter`),
never from the command line, where other users could see them. A running instance is told
to re-read its keys, so a change applies without a restart.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import Mapping
from typing import IO, Any

from proxy.admin.token import read_admin_token
from proxy.config_file import config_path, load_config
from proxy.core.config import Config, Endpoint
from proxy.core.errors import CcfError, ConfigError
from proxy.keys import KeyStore, SystemKeyring

EXIT_FAILED = 1
EXIT_USAGE = 2
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def add_key_commands(subparsers: Any) -> None:
    """Add `ccf key …` to the `ccf` command's subparsers."""
    key = subparsers.add_parser("key", help="endpoint keys in the OS keyring")
    commands = key.add_subparsers(dest="key_command", required=True)
    set_key = commands.add_parser(
        "set", help="store an endpoint's key (typed at a hidden prompt, or piped on stdin)"
    )
    set_key.add_argument("name", help="the endpoint's name, as in the config")
    delete = commands.add_parser("delete", help="remove an endpoint's key from the keyring")
    delete.add_argument("name", help="the endpoint's name")
    commands.add_parser("list", help="which endpoints have keys (never the keys themselves)")


def run_key_command(
    args: argparse.Namespace,
    env: Mapping[str, str],
    store: KeyStore | None = None,
    stdin: IO[str] | None = None,
) -> int:
    """Run `ccf key …`; the exit code (0 done, 1 failed, 2 bad usage)."""
    store = store or SystemKeyring()
    config_file = getattr(args, "config", None)
    try:
        if args.key_command == "list":
            return list_keys(load_config(config_path(config_file, env), env), store, env)
        if not _NAME_RE.match(args.name):
            return fail(f"{args.name!r} is not an endpoint name", EXIT_USAGE)
        config = _config_or_none(config_file, env)
        if args.key_command == "set":
            set_key(args.name, config, store, stdin or sys.stdin)
        else:
            store.delete(args.name)
            print(f"Deleted the key of {args.name} from the OS keyring (if it had one).")
    except CcfError as exc:
        return fail(str(exc), EXIT_FAILED)
    tell_running_instance(config_file, env, store)
    return 0


def fail(message: str, code: int) -> int:
    print(f"ccf: {message}", file=sys.stderr)
    return code


def _config_or_none(config_file: str | None, env: Mapping[str, str]) -> Config | None:
    try:
        return load_config(config_path(config_file, env), env)
    except ConfigError as exc:
        print(f"ccf: warning: {exc}", file=sys.stderr)
        return None


def read_key(name: str, stdin: IO[str]) -> str:
    if stdin.isatty():
        return getpass.getpass(f"Key for {name} (not shown): ").strip()
    return stdin.readline().strip()


def set_key(name: str, config: Config | None, store: KeyStore, stdin: IO[str]) -> None:
    endpoint = config.endpoint(name) if config else None
    warning = _usage_warning(name, endpoint, config)
    if warning:
        print(f"ccf: warning: {warning}", file=sys.stderr)
    value = read_key(name, stdin)
    if not value:
        raise CcfError("no key given; type it at the prompt or pipe it on stdin")
    store.set(name, value)
    print(f"Stored the key of {name} in the OS keyring (ends in {value[-4:]}).")


def _usage_warning(name: str, endpoint: Endpoint | None, config: Config | None) -> str:
    if config is not None and endpoint is None:
        return f"the config has no endpoint named {name}; the key is stored for when it does"
    if endpoint is not None and not endpoint.needs_key:
        return f"{name} uses auth: client (Claude Code's own credentials), so it sends no key"
    if endpoint is not None and endpoint.key.kind == "env":
        return f"{name} reads its key from {endpoint.key.env_var}, not from the keyring"
    return ""


def describe(endpoint: Endpoint, store: KeyStore, env: Mapping[str, str]) -> str:
    if not endpoint.needs_key:
        return "Claude Code's own credentials"
    if endpoint.key.kind == "env":
        state = "set" if env.get(endpoint.key.env_var) else "NOT SET"
        return f"from ${endpoint.key.env_var} ({state})"
    value = store.get(endpoint.name)
    if not value:
        return f"NO KEY: run `ccf key set {endpoint.name}`"
    return f"in the keyring, ends in {value[-4:]}"


def list_keys(config: Config, store: KeyStore, env: Mapping[str, str]) -> int:
    width = max(len(e.name) for e in config.endpoints)
    for endpoint in config.endpoints:
        print(f"{endpoint.name.ljust(width)}  {describe(endpoint, store, env)}")
    return 0


def tell_running_instance(config_file: str | None, env: Mapping[str, str], store: KeyStore) -> None:
    """Best effort: a running instance re-reads its keys now instead of at its next start."""
    from tray_app.settings_cli import admin_call, candidate_urls, is_running

    try:
        token = read_admin_token(store)
    except CcfError:
        return
    for url in candidate_urls(config_file, env):
        if token and is_running(url):
            try:
                admin_call(url, "keys/reload", token)
                print(f"The running instance at {url} uses the change now.")
            except CcfError:
                pass
            return
