"""Moving in from the settings page: the other tools' stores found on this machine, the
picked providers added (all or nothing, keys to the keyring), and the config out and in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from proxy.admin.context import ADMIN
from proxy.admin.read_routes import config_payload
from proxy.admin.transaction import change_config
from proxy.admin.write_routes import json_object
from proxy.app_state import RUNTIME
from proxy.config_changes import url_port
from proxy.config_file import read_raw
from proxy.core.config import Config
from proxy.core.config_edit import Raw, add_endpoint
from proxy.core.errors import ApiError, CcfError
from proxy.core.imports import Candidate, ImportFormatError, pick
from proxy.core.transfer import imported, needing_keys
from proxy.imports.apply import renamed
from proxy.imports.sources import known_sources, read_candidates
from proxy.imports.transfer import export_text, parse_export
from proxy.keyplan import KeyPlan
from proxy.tasks import off_loop

MAX_EXPORT = 1024 * 1024


def _sources(request: web.Request) -> list[Any]:
    admin = request.app[ADMIN]
    return known_sources(Path(admin.env.get("HOME") or Path.home()), admin.claude_dir)


def _describe(path: Path, tool: str, port: int) -> dict[str, Any]:
    try:
        providers = [c.summary() for c in read_candidates(path, port)]
        return {"tool": tool, "path": str(path), "providers": providers, "error": ""}
    except CcfError as exc:
        return {"tool": tool, "path": str(path), "providers": [], "error": str(exc)}


async def get_sources(request: web.Request) -> web.Response:
    port = url_port(request.app[RUNTIME].url)
    found = await off_loop(_sources, request)
    described = [await off_loop(_describe, s.path, s.tool, port) for s in found]
    return web.json_response({"sources": described})


async def post_import(request: web.Request) -> web.Response:
    body = await json_object(request)
    known = {str(s.path): s for s in await off_loop(_sources, request)}
    path, names = body.get("path"), body.get("pick")
    if path not in known:
        raise ApiError(400, "choose one of the files this page lists", "path")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ApiError(400, "pick is a list of provider names", "pick")
    try:
        candidates = await off_loop(read_candidates, Path(path), url_port(request.app[RUNTIME].url))
        chosen = pick(candidates, names)
    except (CcfError, ImportFormatError) as exc:
        raise ApiError(400, str(exc), "pick") from None
    added: list[Candidate] = []

    def edit(raw: Raw) -> Raw:
        added[:] = renamed(chosen, raw)
        for candidate in added:
            raw = add_endpoint(raw, candidate.fields)
        return raw

    def keys(plan: KeyPlan, _: Config) -> None:
        plan.to_set.update({c.name: c.key.value for c in added if c.key is not None})

    await change_config(request, edit, keys)
    return web.json_response(
        {**(await config_payload(request)), "imported": [c.name for c in added]}
    )


async def get_export(request: web.Request) -> web.Response:
    text = await off_loop(export_text, request.app[ADMIN].config_path)
    return web.json_response({"filename": "claude-code-fallback-config.yaml", "text": text})


async def post_config_import(request: web.Request) -> web.Response:
    text = (await json_object(request)).get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_EXPORT:
        raise ApiError(400, "text is the exported file's content (at most 1 MB)", "text")
    try:
        incoming = parse_export(text, "the chosen file")
    except CcfError as exc:
        raise ApiError(400, str(exc), "text") from None
    await change_config(request, lambda raw: imported(raw, incoming))
    raw = await off_loop(read_raw, request.app[ADMIN].config_path)
    return web.json_response({**(await config_payload(request)), "need_keys": needing_keys(raw)})


def import_routes() -> list[web.RouteDef]:
    return [
        web.get("/_ccf/api/import/sources", get_sources),
        web.post("/_ccf/api/import", post_import),
        web.get("/_ccf/api/config/export", get_export),
        web.post("/_ccf/api/config/import", post_config_import),
    ]
