"""`ccf import`: providers from cc-switch, claude-code-router or Claude Code's settings.

Without `--pick`/`--all` it only lists what the file holds; the keys are stored in the OS
keyring, never in the config file, and nothing is changed when any part fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from proxy.admin.context import claude_config_dir
from proxy.config_file import config_path, load_config, write_atomically
from proxy.core.errors import CcfError
from proxy.core.imports import Candidate, ImportFormatError, pick
from proxy.imports.apply import import_into
from proxy.imports.sources import known_sources, read_candidates
from proxy.imports.transfer import export_text, import_config
from proxy.keys import KeyStore, SystemKeyring

EXIT_OK = 0
EXIT_FAILED = 1


def add_import_commands(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "import",
        help="import providers from cc-switch, claude-code-router or Claude Code settings",
    )
    command.add_argument("file", nargs="?", help="the other tool's file (none: list known ones)")
    chosen = command.add_mutually_exclusive_group()
    chosen.add_argument("--pick", nargs="+", metavar="NAME", help="import these providers")
    chosen.add_argument("--all", action="store_true", help="import every provider listed")


def run_import_command(
    args: argparse.Namespace,
    env: Mapping[str, str],
    store: KeyStore | None = None,
    out: IO[str] | None = None,
) -> int:
    out = out or sys.stdout
    try:
        if not args.file:
            return list_known(env, out)
        path = config_path(getattr(args, "config", None), env)
        port = _own_port(path, env)
        candidates = read_candidates(Path(args.file).expanduser(), port)
        if not (args.pick or args.all):
            print(listing(args.file, candidates), file=out)
            return EXIT_OK
        chosen = pick(candidates, args.pick or [])
        if not chosen:
            print("Nothing to import.", file=out)
            return EXIT_FAILED
        done = import_into(path, chosen, env, store or SystemKeyring())
    except (CcfError, ImportFormatError) as exc:
        print(f"ccf: {exc}", file=sys.stderr)
        return EXIT_FAILED
    keys = (
        f"; keys stored in the OS keyring for {', '.join(done.keys_stored)}"
        if done.keys_stored
        else ""
    )
    print(f"Imported {', '.join(done.names)} into {path}{keys}.", file=out)
    return EXIT_OK


def _own_port(path: Path, env: Mapping[str, str]) -> int | None:
    try:
        return load_config(path, env).listen.port
    except CcfError:
        return None


def listing(source: str, candidates: list[Candidate]) -> str:
    lines = [f"{source} holds {len(candidates)} provider(s):"]
    for candidate in candidates:
        info = candidate.summary()
        if candidate.skipped:
            lines.append(f"  - {candidate.name}: not importable ({candidate.skipped})")
            continue
        key = f"key {info['key']}" if candidate.key else f"key {info['key_source'] or 'none'}"
        models = ", ".join(f"{k} -> {v}" for k, v in info["models"].items()) or "no model map"
        lines.append(
            f"  - {candidate.name}: {info['base_url']} ({info['format']}, {info['auth']}, "
            f"{key}; {models})"
        )
    names = " ".join(c.name for c in candidates if not c.skipped)
    if names:
        lines.append(f"Import with: ccf import {source} --pick {names}   (or --all)")
    return "\n".join(lines)


def list_known(env: Mapping[str, str], out: IO[str]) -> int:
    home = Path(env.get("HOME") or Path.home())
    found = known_sources(home, claude_config_dir(env))
    if not found:
        print("No cc-switch, claude-code-router or Claude Code settings found here.", file=out)
        return EXIT_OK
    for source in found:
        print(f"{source.tool}: ccf import {source.path}", file=out)
    return EXIT_OK


def add_transfer_commands(config_commands: Any) -> None:
    """`ccf config export [FILE]` and `ccf config import FILE`: the config without keys."""
    export = config_commands.add_parser("export", help="write the config, without keys, to FILE")
    export.add_argument("file", nargs="?", help="where to write it (default: print it)")
    restore = config_commands.add_parser("import", help="replace the config with an exported one")
    restore.add_argument("file", help="a file written by `ccf config export`")


def run_config_transfer(
    args: argparse.Namespace, env: Mapping[str, str], out: IO[str] | None = None
) -> int:
    out = out or sys.stdout
    path = config_path(getattr(args, "config", None), env)
    try:
        if args.config_command == "export":
            return _export(path, args.file, out)
        source = Path(args.file).expanduser()
        text = source.read_text(encoding="utf-8")
        need = import_config(path, text, str(source), env)
    except (CcfError, OSError, UnicodeDecodeError) as exc:
        print(f"ccf: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Imported {source} into {path} (the old file is kept beside it).", file=out)
    for name in need:
        print(f"  {name} needs its key on this machine: ccf key set {name}", file=out)
    return EXIT_OK


def _export(path: Path, target: str | None, out: IO[str]) -> int:
    text = export_text(path)
    if target is None:
        out.write(text)
        return EXIT_OK
    write_atomically(Path(target).expanduser(), text)
    print(f"Wrote {target} (no keys in it).", file=out)
    return EXIT_OK
