"""The settings page's side of a config change: the one transaction of
`proxy.config_changes`, its errors turned into answers that name the field."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from proxy.admin.context import ADMIN
from proxy.config_changes import Edit, PlanKeys
from proxy.core.config import Config
from proxy.core.errors import (
    ApiError,
    ConfigError,
    ConfigWriteError,
    InvalidChangeError,
    KeyStoreError,
    ListenError,
    PortInUseError,
)


async def change_config(
    request: web.Request, edit: Edit, plan_keys: PlanKeys | None = None
) -> Config:
    """Apply `edit` to the config file and the running proxy, all or nothing."""
    try:
        return await request.app[ADMIN].changes.edit(edit, plan_keys)
    except InvalidChangeError as exc:
        raise ApiError(400, str(exc), exc.path) from None
    except ConfigWriteError as exc:
        raise ApiError(500, str(exc)) from None
    except ConfigError as exc:
        raise ApiError(409, f"{exc} Fix the file by hand first.") from None
    except KeyStoreError as exc:
        raise ApiError(503, str(exc), "secret") from None
    except PortInUseError as exc:
        raise ApiError(400, str(exc), "listen.port") from None
    except ListenError as exc:
        raise ApiError(400, str(exc), "listen.host") from None


async def change_keys(request: web.Request, change: Callable[[], None] | None = None) -> None:
    """A keyring change, then the keys resolved again; 503 when the keyring refuses."""
    try:
        await request.app[ADMIN].changes.refresh_keys(change)
    except KeyStoreError as exc:
        raise ApiError(503, str(exc), "secret") from None
