"""Hypothesis strategies for valid configs, shared by the core's property tests.

Strategies are built once at import: building them inside `@composite` functions per draw
is several times slower.
"""

from __future__ import annotations

import operator
from dataclasses import replace

from hypothesis import strategies as st

from proxy.core.config import (
    Config,
    Endpoint,
    Failover,
    KeySource,
    Limits,
    Listen,
    Routing,
    Secret,
    Security,
    Timeouts,
    is_loopback_host,
)

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# Any text a value may hold, less line breaks, NUL, `$` (no `${VAR}` substitution on reparse)
# and NEL, which PyYAML writes raw and reads back as a space (its own test covers it).
ALPHABET = st.characters(codec="utf-8", exclude_characters="\r\n\x00$\x85")
SAFE_TEXT = st.text(ALPHABET, min_size=1, max_size=12).filter(lambda s: bool(s.strip()))


def word(first: str, rest: str, max_size: int) -> st.SearchStrategy[str]:
    """A string whose first character is from `first` and the others from `rest`."""
    return st.builds(
        operator.add, st.sampled_from(first), st.text(st.sampled_from(rest), max_size=max_size)
    )


NAMES = word(ALNUM, ALNUM + "._-", 20)
HEADER_NAMES = word(ALNUM.lower(), ALNUM.lower() + "!#%&'*+.^_`|~-", 15)
ENV_VARS = word(ALNUM[:52] + "_", ALNUM + "_", 10)
HOSTS = st.lists(word("abcxyz", "abcxyz019-", 8), min_size=1, max_size=3).map(".".join)
PATHS = st.lists(word("av1", "av1.", 6), max_size=2).map(
    lambda parts: "".join(f"/{p}" for p in parts)
)
PORTS = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
BASE_URLS = st.builds("{}://{}{}{}".format, st.sampled_from(["http", "https"]), HOSTS, PORTS, PATHS)
SECONDS = st.floats(min_value=0.01, max_value=3600, allow_nan=False)
STATUSES = st.one_of(st.integers(100, 599), st.sampled_from(["1xx", "2xx", "3xx", "4xx", "5xx"]))
KEY_SOURCES = st.one_of(
    st.just(KeySource()), ENV_VARS.map(lambda var: KeySource(kind="env", env_var=var))
)
MODELS = st.dictionaries(SAFE_TEXT, SAFE_TEXT, max_size=3).map(lambda d: tuple(d.items()))
HEADERS = st.dictionaries(HEADER_NAMES, st.one_of(st.none(), SAFE_TEXT, st.just("")), max_size=3)
COUNTS = st.one_of(st.none(), st.integers(1, 10_000_000))
LIMITS = st.builds(Limits, COUNTS, COUNTS, st.booleans(), COUNTS)
TOKENS = st.text(ALPHABET, min_size=16, max_size=24).filter(lambda s: bool(s.strip()))


def _endpoint(name: str, auth: str, key: KeySource, **fields: object) -> Endpoint:
    # A client-auth endpoint's key source has its own round-trip test (it is dropped).
    return Endpoint(name=name, auth=auth, key=key if auth != "client" else KeySource(), **fields)  # type: ignore[arg-type]


def endpoints(name: str) -> st.SearchStrategy[Endpoint]:
    return st.builds(
        _endpoint,
        name=st.just(name),
        auth=st.sampled_from(["client", "x-api-key", "bearer"]),
        key=KEY_SOURCES,
        base_url=BASE_URLS,
        format=st.sampled_from(["anthropic", "openai"]),
        models=MODELS,
        headers=HEADERS.map(lambda d: tuple(d.items())),
        enabled=st.booleans(),
        limits=LIMITS,
    )


ENDPOINT_LISTS = (
    st.lists(NAMES, min_size=1, max_size=4, unique=True)
    .flatmap(lambda names: st.tuples(*(endpoints(n) for n in names)))
    .map(
        lambda items: (
            items
            if any(e.enabled for e in items)
            else (replace(items[0], enabled=True), *items[1:])
        )
    )
)


@st.composite
def configs(draw: st.DrawFn) -> Config:
    items: tuple[Endpoint, ...] = draw(ENDPOINT_LISTS)
    host = draw(st.sampled_from(["127.0.0.1", "localhost", "::1", "0.0.0.0", "10.1.2.3"]))
    token = draw(st.one_of(st.none(), TOKENS))
    if token is None and not is_loopback_host(host):
        token = "t" * 16
    first = draw(st.floats(min_value=0, max_value=86400, allow_nan=False))
    cap = draw(st.floats(min_value=first, max_value=7 * 86400, allow_nan=False))
    names = [e.name for e in items]
    return Config(
        endpoints=items,
        listen=Listen(host=host, port=draw(st.integers(1, 65535))),
        routing=Routing(
            pinned=draw(st.one_of(st.none(), st.sampled_from(names))), paused=draw(st.booleans())
        ),
        failover=Failover(
            on_status=tuple(draw(st.lists(STATUSES, max_size=6))),
            cooldown_seconds=first,
            max_cooldown_seconds=cap,
        ),
        timeouts=Timeouts(
            connect=draw(SECONDS),
            first_byte=draw(st.one_of(st.none(), SECONDS)),
            idle=draw(SECONDS),
        ),
        security=Security(access_token=Secret(token) if token else None),
    )
