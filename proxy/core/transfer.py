"""Export and import of the whole configuration for a second machine, without keys.

Keys are never in the config file; the one secret that can be, `security.access_token`,
is left out of an export, and an import keeps this machine's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXPORT_HEADER = (
    "# Claude Code Fallback configuration, exported for another machine.\n"
    "# Keys are not included: set them there with `ccf key set NAME` or in Settings.\n"
    "# Import it with `ccf config import FILE` or Settings → Check set-up → Move in.\n"
)


def exportable(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The file's data without the access token (the endpoints' keys are never in it)."""
    out = dict(raw)
    security = out.get("security")
    if isinstance(security, Mapping) and security.get("access_token") is not None:
        out["security"] = {**security, "access_token": None}
    return out


def imported(current: Mapping[str, Any], incoming: Mapping[str, Any]) -> dict[str, Any]:
    """`incoming` as the new file's data, keeping this machine's access token."""
    out = dict(incoming)
    security = current.get("security")
    token = security.get("access_token") if isinstance(security, Mapping) else None
    if token is not None:
        theirs = out.get("security")
        out["security"] = {**(theirs if isinstance(theirs, Mapping) else {}), "access_token": token}
    return out


def needing_keys(raw: Mapping[str, Any]) -> list[str]:
    """Endpoints that take their key from the keyring: they need one set on this machine."""
    listed = raw.get("endpoints")
    names = []
    for endpoint in listed if isinstance(listed, list) else []:
        if not isinstance(endpoint, Mapping) or endpoint.get("auth", "client") == "client":
            continue
        if endpoint.get("key", "keyring") == "keyring":
            names.append(str(endpoint.get("name")))
    return names
