"""Adding picked providers to the config file, and their keys to the keyring, all or nothing.

Keys first (undone if the file cannot be written), then the file, atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from proxy.config_document import merge, read_document, render
from proxy.config_file import write_atomically
from proxy.core.config import Config, FieldError, parse_config
from proxy.core.config_edit import Raw, add_endpoint
from proxy.core.config_yaml import parse_config_text
from proxy.core.errors import ConfigError, KeyStoreError
from proxy.core.imports import Candidate, endpoint_name
from proxy.imports.sources import ImportSourceError
from proxy.keyplan import KeyPlan
from proxy.keys import KeyStore


@dataclass(frozen=True, slots=True)
class Imported:
    names: list[str]  # as they are called in the config now
    keys_stored: list[str]
    config: Config


def renamed(candidates: Sequence[Candidate], raw: Raw) -> list[Candidate]:
    """Candidates with names no endpoint of the file already has."""
    listed = raw.get("endpoints")
    taken = (
        [str(e.get("name")) for e in listed if isinstance(e, Mapping)]
        if isinstance(listed, list)
        else ["anthropic"]
    )
    out = []
    for candidate in candidates:
        name = endpoint_name(candidate.name, taken)
        taken.append(name)
        out.append(replace(candidate, name=name, fields={**candidate.fields, "name": name}))
    return out


def plan_text(
    config_path: Path, candidates: Sequence[Candidate], env: Mapping[str, str]
) -> tuple[str, list[Candidate], Config]:
    """The new file's text, the candidates as named in it, and the config it gives."""
    try:
        document = read_document(config_path)
    except ConfigError as exc:
        raise ImportSourceError(f"{exc} Fix the config file first; nothing was imported.") from None
    raw = document.data
    picked = renamed(candidates, raw)
    for candidate in picked:
        raw = add_endpoint(raw, candidate.fields)
    try:
        config = parse_config(raw, env)
    except FieldError as exc:
        raise ImportSourceError(
            f"the imported providers do not make a valid config: {exc}"
        ) from None
    merge(document.root, raw)
    text = render(document)
    parse_config_text(text, env, str(config_path))
    return text, picked, config


def import_into(
    config_path: Path, candidates: Sequence[Candidate], env: Mapping[str, str], store: KeyStore
) -> Imported:
    """Blocking. Raises `ImportSourceError` or `KeyStoreError`; then nothing has changed."""
    text, picked, config = plan_text(config_path, candidates, env)
    plan = KeyPlan(store)
    plan.to_set = {c.name: c.key.value for c in picked if c.key is not None}
    try:
        plan.apply()
    except KeyStoreError:
        plan.undo()
        raise
    try:
        write_atomically(config_path, text)
    except OSError as exc:
        plan.undo()
        raise ImportSourceError(f"cannot write {config_path}: {exc.strerror}") from None
    return Imported([c.name for c in picked], list(plan.to_set), config)
