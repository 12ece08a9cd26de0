"""What a request is, decided once from its target exactly as the client sent it.

    refused   a target that could mean two things: an encoded `/`, `\\`, `?` or `#`, a raw
              `\\`, a `.` or `..` segment in any spelling, a control character (NUL too),
              a malformed escape, a character HTTP does not allow unencoded, a fragment,
              or a target that is not a path (`http://…`, `*`)
    admin     `/_ccf` and everything under it: the settings page and its API
    local     `/health` and `/metrics`, answered by the proxy itself
    proxied   everything else, sent upstream with the raw path and query as they came

The guard and the router both read the one `Target` made here, so they cannot disagree
about a path; what is not refused has a single plain form, so `/%5fccf/…` is admin and
`/%68ealth` is local, exactly as their plain spellings are.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

Kind = Literal["refused", "admin", "local", "proxied"]

ADMIN_ROOT = "/_ccf"
LOCAL_PATHS = frozenset({"/health", "/metrics"})
LOCAL_METHODS = frozenset({"GET", "HEAD"})
_PCHAR = r"A-Za-z0-9\-._~!$&'()*+,;=:@%"  # RFC 3986 pchar, with `%` checked apart
_PATH_RE = re.compile(f"/[{_PCHAR}/]*")
_QUERY_RE = re.compile(f"[{_PCHAR}/?]*")
_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})?")
_AMBIGUOUS_ESCAPES = {"2f": "/", "5c": "\\", "3f": "?", "23": "#"}
_DOT_SEGMENTS = frozenset({".", ".."})


class Target(NamedTuple):
    """A request target, classified. `raw` and `query` go upstream untouched; `plain` (the
    path with its escapes undone) is what routes and the guard compare. (A named tuple:
    made for every request, and a tenth of the cost of a frozen dataclass.)"""

    kind: Kind
    raw: str
    query: str
    plain: str
    problem: str = ""


def classify(target: str) -> Target:
    """The kind of `target` (a request line's target: path and optional query)."""
    raw, _, query = target.partition("?")
    problem = _path_problem(raw) or _query_problem(query)
    if problem:
        return Target("refused", raw, query, "", problem)
    plain = _unescape(raw)
    if plain is None:
        return Target("refused", raw, query, "", "the path is not UTF-8 once decoded")
    if "." in plain and any(segment in _DOT_SEGMENTS for segment in plain.split("/")):
        return Target("refused", raw, query, plain, "the path has a '.' or '..' segment")
    return Target(_kind_of(plain), raw, query, plain)


def _kind_of(plain: str) -> Kind:
    if plain == ADMIN_ROOT or plain.startswith(ADMIN_ROOT + "/"):
        return "admin"
    return "local" if plain in LOCAL_PATHS else "proxied"


def _path_problem(raw: str) -> str:
    if not raw.startswith("/"):
        return "the target must be a path starting with '/'"
    if _PATH_RE.fullmatch(raw) is None:
        bad = next(c for c in raw if _PATH_RE.fullmatch("/" + c) is None)
        return f"the path has a character that must be percent-encoded ({bad!r})"
    return _escapes_problem(raw) if "%" in raw else ""


def _query_problem(query: str) -> str:
    if _QUERY_RE.fullmatch(query) is None:
        bad = next(c for c in query if _QUERY_RE.fullmatch(c) is None)
        return f"the query has a character that must be percent-encoded ({bad!r})"
    return ""


def _escapes_problem(raw: str) -> str:
    for escape in _ESCAPE_RE.finditer(raw):
        pair = escape[1]
        if pair is None:
            return "the path has a malformed percent-escape"
        if pair.lower() in _AMBIGUOUS_ESCAPES:
            return f"the path has an encoded {_AMBIGUOUS_ESCAPES[pair.lower()]!r} (%{pair})"
        if int(pair, 16) < 0x20 or int(pair, 16) == 0x7F:
            return f"the path has an encoded control character (%{pair})"
    return ""


def _unescape(raw: str) -> str | None:
    """`raw` with its (already checked) percent-escapes undone; None if not UTF-8."""
    if "%" not in raw:
        return raw
    parts = raw.split("%")
    out = bytearray(parts[0].encode("ascii"))
    for part in parts[1:]:
        out.append(int(part[:2], 16))
        out.extend(part[2:].encode("ascii"))
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        return None
