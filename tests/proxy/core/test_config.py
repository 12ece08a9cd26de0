"""The config model: parsing plain data into frozen dataclasses, and back."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.config import (
    ANTHROPIC,
    Config,
    Endpoint,
    Failover,
    FieldError,
    KeySource,
    Listen,
    Routing,
    Secret,
    Security,
    Timeouts,
    config_to_dict,
    endpoint_to_dict,
    is_loopback_host,
    parse_config,
    substitute_env,
)
from tests.proxy.core.strategies import configs

# ---------------------------------------------------------------- helpers


def endpoint(**fields: Any) -> dict[str, Any]:
    return {"name": "a", "base_url": "https://a.example", **fields}


def with_endpoint(**fields: Any) -> dict[str, Any]:
    return {"endpoints": [endpoint(**fields)]}


def parse(raw: object, env: dict[str, str] | None = None) -> Config:
    return parse_config(raw, env or {})


def field_error(raw: object, env: dict[str, str] | None = None) -> FieldError:
    with pytest.raises(FieldError) as info:
        parse_config(raw, env or {})
    return info.value


def round_trip(config: Config) -> Config:
    return parse_config(config_to_dict(config), {})


# ---------------------------------------------------------------- defaults and the example


@pytest.mark.parametrize("raw", [None, {}])
def test_no_data_is_the_pass_through_default(raw: object) -> None:
    config = parse(raw)
    assert config == Config()
    assert config.endpoints == (ANTHROPIC,)
    assert ANTHROPIC.auth == "client"
    assert not ANTHROPIC.needs_key
    assert config.listen == Listen("127.0.0.1", 8765)


DESIGN_EXAMPLE: dict[str, Any] = {
    "listen": {"host": "127.0.0.1", "port": 8765},
    "endpoints": [
        {"name": "anthropic", "base_url": "https://api.anthropic.com", "auth": "client"},
        {
            "name": "openrouter",
            "base_url": "https://openrouter.ai/api",
            "format": "anthropic",
            "auth": "bearer",
            "key": "keyring",
            "models": {
                "claude-haiku-*": "anthropic/claude-haiku-4.5",
                "*": "anthropic/claude-sonnet-4.5",
            },
            "headers": {},
            "enabled": True,
        },
    ],
    "routing": {"pinned": None, "paused": False},
    "failover": {
        "on_status": [401, 403, 404, 408, 409, 429, "5xx"],
        "cooldown_seconds": 30,
        "max_cooldown_seconds": 1800,
    },
    "timeouts": {"connect": 10, "first_byte": 90, "idle": 180},
    "security": {"access_token": None},
}


def test_design_example_parses() -> None:
    config = parse(DESIGN_EXAMPLE)
    router = config.endpoints[1]
    assert router == Endpoint(
        name="openrouter",
        base_url="https://openrouter.ai/api",
        auth="bearer",
        key=KeySource(),
        models=(
            ("claude-haiku-*", "anthropic/claude-haiku-4.5"),
            ("*", "anthropic/claude-sonnet-4.5"),
        ),
    )
    assert router.needs_key
    assert config.failover == Failover()
    assert config.timeouts == Timeouts(first_byte=90.0)
    assert config.routing == Routing()
    assert config.security == Security()
    assert config.endpoint("openrouter") is router
    assert config.endpoint("nope") is None


def test_with_routing_changes_only_routing() -> None:
    config = parse(DESIGN_EXAMPLE)
    paused = config.with_routing(paused=True, pinned="openrouter")
    assert paused.routing == Routing(pinned="openrouter", paused=True)
    assert paused.endpoints == config.endpoints
    assert config.routing == Routing()


# ---------------------------------------------------------------- normalisation


def test_values_are_normalised() -> None:
    config = parse(
        {
            "listen": {"host": " localhost ", "port": "9000"},
            "endpoints": [
                endpoint(
                    base_url=" https://a.example/api/ ",
                    headers={
                        "X-Title": "ccf",
                        "X-Number": 7,
                        "X-Empty": "",
                        "Anthropic-Beta": None,
                    },
                )
            ],
            "failover": {"on_status": [" 5XX ", "429", 404], "cooldown_seconds": 5},
            "timeouts": {"connect": 1},
        }
    )
    assert config.listen == Listen("localhost", 9000)
    first = config.endpoints[0]
    assert first.base_url == "https://a.example/api"
    assert first.headers == (
        ("x-title", "ccf"),
        ("x-number", "7"),
        ("x-empty", ""),
        ("anthropic-beta", None),
    )
    assert config.failover.on_status == ("5xx", 429, 404)
    assert config.failover.cooldown_seconds == 5.0
    assert isinstance(config.failover.cooldown_seconds, float)
    assert config.timeouts.connect == 1.0


@pytest.mark.parametrize(
    ("key", "source"),
    [
        (None, KeySource()),
        ("keyring", KeySource()),
        ("env:OPENROUTER_KEY", KeySource(kind="env", env_var="OPENROUTER_KEY")),
        ("env:_x1", KeySource(kind="env", env_var="_x1")),
    ],
)
def test_key_sources(key: str | None, source: KeySource) -> None:
    config = parse(with_endpoint(auth="bearer", key=key))
    assert config.endpoints[0].key == source
    assert str(source) == (key if key and key.startswith("env:") else "keyring")


def test_port_zero_means_any_free_port() -> None:
    assert parse({"listen": {"port": 0}}).listen.port == 0


def test_empty_status_list_means_never_fail_over() -> None:
    config = parse({"failover": {"on_status": []}})
    assert config.failover.on_status == ()
    assert not config.failover.fails_over_on(503)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(429, True), (401, True), (500, True), (529, True), (599, True), (400, False), (413, False)],
)
def test_default_failover_statuses(status: int, expected: bool) -> None:
    assert Failover().fails_over_on(status) is expected


def test_status_classes_match_only_their_hundred() -> None:
    policy = Failover(on_status=("4xx",))
    assert policy.fails_over_on(400)
    assert policy.fails_over_on(499)
    assert not policy.fails_over_on(500)


# ---------------------------------------------------------------- environment


def test_env_substitution_reaches_nested_strings() -> None:
    env = {"HOST": "a.example", "TITLE": "ccf", "CLASS": "5xx"}
    config = parse(
        {
            "endpoints": [
                endpoint(base_url="https://${HOST}/api", headers={"x-title": "${TITLE}-${TITLE}"})
            ],
            "failover": {"on_status": ["${CLASS}"]},
        },
        env,
    )
    assert config.endpoints[0].base_url == "https://a.example/api"
    assert config.endpoints[0].headers == (("x-title", "ccf-ccf"),)
    assert config.failover.on_status == ("5xx",)


def test_env_substitution_is_single_pass() -> None:
    assert substitute_env("${A}", {"A": "${B}"}) == "${B}"
    assert substitute_env("$A {A} $${A}", {"A": "x"}) == "$A {A} $x"


def test_unset_env_var_names_the_path_and_the_variable() -> None:
    error = field_error(with_endpoint(base_url="https://${MISSING_HOST}"))
    assert error.path == "endpoints[0].base_url"
    assert "MISSING_HOST" in str(error)


@pytest.mark.parametrize(
    ("env", "listen"),
    [
        ({"CCF_PORT": "9999"}, Listen("127.0.0.1", 9999)),
        ({"CCF_HOST": "localhost"}, Listen("localhost", 8000)),
        ({"CCF_HOST": "", "CCF_PORT": ""}, Listen("127.0.0.1", 8000)),
    ],
)
def test_env_overrides_listen(env: dict[str, str], listen: Listen) -> None:
    assert parse({"listen": {"port": 8000}}, env).listen == listen


def test_env_host_override_is_checked_for_exposure() -> None:
    error = field_error({}, {"CCF_HOST": "0.0.0.0"})
    assert error.path == "CCF_HOST"  # the file is not to blame
    assert "'0.0.0.0'" in str(error)
    assert "security.access_token" in str(error)


# ---------------------------------------------------------------- exposure


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_non_loopback_host_is_allowed_with_an_access_token() -> None:
    config = parse({"listen": {"host": "0.0.0.0"}, "security": {"access_token": "x" * 16}})
    assert config.security.access_token == Secret("x" * 16)


# ---------------------------------------------------------------- secrets


def test_secret_never_shows_its_value() -> None:
    secret = Secret("sk-ant-0123456789abcd")
    assert "0123" not in repr(secret)
    assert str(secret) == "***"
    assert secret.last4 == "abcd"
    assert Secret("short").last4 == ""
    config = parse({"security": {"access_token": "0123456789abcdefXYZ"}})
    assert "0123456789abcdef" not in repr(config)


def test_short_access_token_error_does_not_show_it() -> None:
    error = field_error({"security": {"access_token": "hunter2hunter"}})
    assert error.path == "security.access_token"
    assert "hunter2" not in str(error)
    assert "16" in str(error)


def test_key_error_does_not_echo_a_pasted_key() -> None:
    """A key pasted into `key:` must not reappear in an error dialog or a log (DESIGN §4)."""
    pasted = "sk-ant-api03-Zx9SECRETSECRETSECRET"
    error = field_error(with_endpoint(auth="bearer", key=pasted))
    assert error.path == "endpoints[0].key"
    assert "keyring" in str(error)
    assert "env:VAR_NAME" in str(error)
    assert "SECRET" not in str(error)


# ---------------------------------------------------------------- validation messages

# (raw data, key path, fragments the message must contain: the bad value and what is allowed)
BAD: list[tuple[object, str, tuple[str, ...]]] = [
    ({"listn": {}}, "listn", ("unknown key", "listen", "endpoints")),
    ({"listen": []}, "listen", ("expected a mapping", "[]")),
    ({"listen": {"hots": "x"}}, "listen.hots", ("unknown key", "host", "port")),
    ({"listen": {"host": ""}}, "listen.host", ("''", "non-empty string")),
    ({"listen": {"port": -1}}, "listen.port", ("-1", "1 to 65535")),
    ({"listen": {"port": 70000}}, "listen.port", ("70000", "1 to 65535")),
    ({"listen": {"port": "http"}}, "listen.port", ("'http'", "1 to 65535")),
    ({"listen": {"port": True}}, "listen.port", ("True", "1 to 65535")),
    ({"listen": {"port": 80.5}}, "listen.port", ("80.5", "1 to 65535")),
    ({"endpoints": []}, "endpoints", ("non-empty list",)),
    ({"endpoints": {"name": "a"}}, "endpoints", ("non-empty list",)),
    ({"endpoints": ["a"]}, "endpoints[0]", ("expected a mapping", "'a'")),
    (with_endpoint(nmae="x"), "endpoints[0].nmae", ("unknown key", "base_url", "headers")),
    (with_endpoint(name=""), "endpoints[0].name", ("''", "non-empty string")),
    (with_endpoint(name=5), "endpoints[0].name", ("5", "non-empty string")),
    (with_endpoint(name="my endpoint"), "endpoints[0].name", ("'my endpoint'", "letters")),
    (with_endpoint(name="-a"), "endpoints[0].name", ("'-a'", "letters, digits")),
    (with_endpoint(name="a" * 65), "endpoints[0].name", ("aaaa", "max 64")),
    (
        {"endpoints": [{"name": "a"}]},
        "endpoints[0].base_url",
        ("missing", "base URL"),
    ),
    (with_endpoint(base_url="ftp://a"), "endpoints[0].base_url", ("'ftp://a'", "https://")),
    (with_endpoint(base_url="a.example"), "endpoints[0].base_url", ("'a.example'", "http://")),
    (with_endpoint(base_url="https://"), "endpoints[0].base_url", ("'https://'", "http://")),
    (with_endpoint(base_url="https://a/?x=1"), "endpoints[0].base_url", ("?query",)),
    (with_endpoint(base_url="https://a/#top"), "endpoints[0].base_url", ("#fragment",)),
    (with_endpoint(base_url="https://api example.com"), "endpoints[0].base_url", ("spaces",)),
    (with_endpoint(base_url="https://a.example/v 1"), "endpoints[0].base_url", ("spaces",)),
    (with_endpoint(base_url="https://a.example/\tv1"), "endpoints[0].base_url", ("control",)),
    (with_endpoint(base_url="https://a$b.example"), "endpoints[0].base_url", ("https://host",)),
    (with_endpoint(base_url="//a.example/v1"), "endpoints[0].base_url", ("http://",)),
    (with_endpoint(base_url="javascript:alert(1)"), "endpoints[0].base_url", ("http://",)),
    (with_endpoint(format="gemini"), "endpoints[0].format", ("'gemini'", "anthropic, openai")),
    (
        with_endpoint(auth="oauth"),
        "endpoints[0].auth",
        ("'oauth'", "client, x-api-key, bearer"),
    ),
    (with_endpoint(key="env:"), "endpoints[0].key", ("'env:'", "keyring", "env:VAR_NAME")),
    (with_endpoint(key="env:1X"), "endpoints[0].key", ("'env:1X'", "env:VAR_NAME")),
    (with_endpoint(key=42), "endpoints[0].key", ("42", "keyring")),
    (with_endpoint(models=["*"]), "endpoints[0].models", ("expected a mapping", "['*']")),
    (with_endpoint(models={"*": ""}), "endpoints[0].models.*", ("''", "non-empty string")),
    (with_endpoint(models={"*": 4}), "endpoints[0].models.*", ("4", "non-empty string")),
    (with_endpoint(models={"": "x"}), "endpoints[0].models.", ("''", "non-empty string")),
    (with_endpoint(headers="x"), "endpoints[0].headers", ("expected a mapping", "'x'")),
    (
        with_endpoint(headers={"bad name": "x"}),
        "endpoints[0].headers.bad name",
        ("header name",),
    ),
    (with_endpoint(headers={"x-a": ["v"]}), "endpoints[0].headers.x-a", ("['v']", "string")),
    (with_endpoint(headers={"x-a": True}), "endpoints[0].headers.x-a", ("True", "string")),
    (with_endpoint(headers={"x-a": "a\r\nb"}), "endpoints[0].headers.x-a", ("line breaks",)),
    (with_endpoint(enabled="yes"), "endpoints[0].enabled", ("'yes'", "true or false")),
    (
        {"endpoints": [endpoint(), endpoint()]},
        "endpoints[1].name",
        ("'a'", "used twice"),
    ),
    (with_endpoint(enabled=False), "endpoints", ("disabled", "enable at least one")),
    ({"routing": {"pinned": "b"}}, "routing.pinned", ("'b'", "anthropic", "null")),
    ({"routing": {"paused": "no"}}, "routing.paused", ("'no'", "true or false")),
    ({"routing": {"pined": "b"}}, "routing.pined", ("unknown key", "pinned, paused")),
    ({"failover": {"on_status": 429}}, "failover.on_status", ("list", "5xx")),
    ({"failover": {"on_status": [429, 600]}}, "failover.on_status[1]", ("600", "5xx")),
    ({"failover": {"on_status": ["6xx"]}}, "failover.on_status[0]", ("'6xx'", "5xx")),
    ({"failover": {"on_status": [True]}}, "failover.on_status[0]", ("True", "HTTP status")),
    ({"failover": {"on_status": ["5x"]}}, "failover.on_status[0]", ("'5x'", "HTTP status")),
    (
        {"failover": {"cooldown_seconds": -1}},
        "failover.cooldown_seconds",
        ("-1", "0 to 86400"),
    ),
    (
        {"failover": {"cooldown_seconds": "30s"}},
        "failover.cooldown_seconds",
        ("'30s'", "number of seconds"),
    ),
    (
        {"failover": {"cooldown_seconds": True}},
        "failover.cooldown_seconds",
        ("True", "number of seconds"),
    ),
    (
        {"failover": {"cooldown_seconds": float("nan")}},
        "failover.cooldown_seconds",
        ("nan", "0 to 86400"),
    ),
    (
        {"failover": {"max_cooldown_seconds": 10}},
        "failover.max_cooldown_seconds",
        ("10", "below cooldown_seconds (30)"),
    ),
    (
        {"failover": {"max_cooldown_seconds": 10**9}},
        "failover.max_cooldown_seconds",
        ("1000000000", "0 to 604800"),
    ),
    ({"timeouts": {"connect": 0}}, "timeouts.connect", ("0", "0.01 to 3600")),
    ({"timeouts": {"idle": 3601}}, "timeouts.idle", ("3601", "0.01 to 3600")),
    ({"timeouts": {"first_byte": "soon"}}, "timeouts.first_byte", ("soon", "number")),
    ({"timeouts": {"total": 5}}, "timeouts.total", ("unknown key", "connect, first_byte, idle")),
    ({"security": {"token": "x"}}, "security.token", ("unknown key", "access_token")),
    ({"security": {"access_token": 5}}, "security.access_token", ("5", "string")),
    ({"listen": {"host": "0.0.0.0"}}, "listen.host", ("'0.0.0.0'", "127.0.0.1")),
    ([1, 2], "", ("expected a mapping", "[1, 2]")),
    ("listen", "", ("expected a mapping", "'listen'")),
]


@pytest.mark.parametrize(("raw", "path", "fragments"), BAD, ids=[b[1] or "top" for b in BAD])
def test_bad_value_names_path_value_and_what_is_allowed(
    raw: object, path: str, fragments: tuple[str, ...]
) -> None:
    error = field_error(raw)
    assert error.path == path
    message = str(error)
    if path:
        assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ({"endpoints": "anthropic"}, "'anthropic'"),
        ({"failover": {"on_status": "5xx"}}, "'5xx'"),
        (
            with_endpoint(base_url="https://a.example/api?beta=true"),
            "'https://a.example/api?beta=true'",
        ),
    ],
    ids=["endpoints-not-a-list", "on-status-not-a-list", "base-url-with-query"],
)
def test_every_message_shows_the_bad_value(raw: dict[str, Any], shown: str) -> None:
    assert shown in str(field_error(raw))


def test_long_values_are_shortened_in_messages() -> None:
    error = field_error(with_endpoint(format="x" * 500))
    assert len(str(error)) < 200
    assert "..." in str(error)


def test_field_error_is_a_value_error() -> None:
    error = FieldError("listen.port", "bad")
    assert isinstance(error, ValueError)
    assert (error.path, error.detail, str(error)) == ("listen.port", "bad", "listen.port: bad")
    assert str(FieldError("", "bad")) == "bad"


# ---------------------------------------------------------------- found bugs: foreign errors


@pytest.mark.parametrize(
    "raw",
    [
        {"listen": {"port": "²"}},  # str.isdigit() is true, int() refuses it
        {"listen": {"port": "1" * 5000}},  # int() refuses more than 4300 digits
        {"failover": {"on_status": ["²²²"]}},
        with_endpoint(base_url="http://[::1"),  # urlsplit raises "Invalid IPv6 URL"
        with_endpoint(base_url="https://[not-an-ip]/"),
    ],
    ids=["port-superscript", "port-5000-digits", "status-superscript", "ipv6-open", "ipv6-bad"],
)
def test_odd_values_raise_field_error_not_a_bare_value_error(raw: object) -> None:
    with pytest.raises(FieldError):
        parse(raw)


def test_odd_port_from_the_environment_raises_field_error() -> None:
    with pytest.raises(FieldError):
        parse({}, {"CCF_PORT": "³"})


# ---------------------------------------------------------------- found bugs: checks that let bad values through


@pytest.mark.parametrize("base_url", ["http://a.example:abc", "http://a.example:99999"])
def test_base_url_with_an_impossible_port_is_rejected(base_url: str) -> None:
    error = field_error(with_endpoint(base_url=base_url))
    assert error.path == "endpoints[0].base_url"


def test_header_name_with_a_trailing_newline_is_rejected() -> None:
    """`_HEADER_NAME_RE.match` uses `$`, which also matches before a final newline."""
    error = field_error(with_endpoint(headers={"x-title\n": "ccf"}))
    assert error.path.startswith("endpoints[0].headers")


def test_env_key_name_with_a_trailing_newline_is_rejected() -> None:
    error = field_error(with_endpoint(auth="bearer", key="env:OPENROUTER_KEY\n"))
    assert error.path == "endpoints[0].key"


# ---------------------------------------------------------------- back to plain data


def test_config_to_dict_names_key_sources_never_keys() -> None:
    config = parse(
        {
            "endpoints": [
                endpoint(name="a"),
                endpoint(name="b", auth="x-api-key", key="env:B_KEY"),
                endpoint(name="c", auth="bearer"),
            ]
        }
    )
    dumped = [endpoint_to_dict(e) for e in config.endpoints]
    assert "key" not in dumped[0]
    assert dumped[1]["key"] == "env:B_KEY"
    assert dumped[2]["key"] == "keyring"
    assert config_to_dict(config)["endpoints"] == dumped


def test_config_to_dict_of_the_default() -> None:
    assert config_to_dict(Config()) == {
        "listen": {"host": "127.0.0.1", "port": 8765},
        "endpoints": [
            {
                "name": "anthropic",
                "base_url": "https://api.anthropic.com",
                "format": "anthropic",
                "auth": "client",
                "models": {},
                "headers": {},
                "enabled": True,
            }
        ],
        "routing": {"pinned": None, "paused": False},
        "failover": {
            "on_status": [401, 403, 404, 408, 409, 429, "5xx"],
            "cooldown_seconds": 30.0,
            "max_cooldown_seconds": 1800.0,
        },
        "timeouts": {"connect": 10.0, "first_byte": None, "idle": 180.0},
        "security": {"access_token": None},
        "usage": {"retention_days": 90},
    }


def test_design_example_round_trips() -> None:
    config = parse(DESIGN_EXAMPLE)
    assert round_trip(config) == config


def test_round_trip_keeps_the_env_key_of_a_client_auth_endpoint() -> None:
    """`auth: client` with `key: env:K` parses, but `config_to_dict` drops the key source."""
    config = parse(with_endpoint(auth="client", key="env:K"))
    assert round_trip(config) == config


def test_header_names_differing_only_in_case_are_rejected_or_round_trip() -> None:
    try:
        config = parse(with_endpoint(headers={"X-Title": "a", "x-title": "b"}))
    except FieldError:
        return
    assert round_trip(config) == config


# ---------------------------------------------------------------- generated configs


@settings(max_examples=100, deadline=None)
@given(configs())
def test_generated_configs_round_trip(config: Config) -> None:
    assert round_trip(config) == config


# ---------------------------------------------------------------- arbitrary data

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(
        ["", " ", "5xx", "keyring", "env:X", "https://a.example", "http://[::1", "²", "${X}", "-1"]
    ),
)
KEYS = st.one_of(
    st.sampled_from(
        [
            "listen",
            "host",
            "port",
            "endpoints",
            "name",
            "base_url",
            "format",
            "auth",
            "key",
            "models",
            "headers",
            "enabled",
            "routing",
            "pinned",
            "paused",
            "failover",
            "on_status",
            "cooldown_seconds",
            "max_cooldown_seconds",
            "timeouts",
            "connect",
            "first_byte",
            "idle",
            "security",
            "access_token",
        ]
    ),
    st.text(max_size=8),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)


def parses_or_raises_field_error(raw: object) -> None:
    try:
        config = parse_config(raw, {"X": "x"})
    except FieldError:
        return
    assert isinstance(config, Config)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(DATA)
def test_arbitrary_data_raises_only_field_error(raw: object) -> None:
    parses_or_raises_field_error(raw)


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid config's plain data with one value somewhere replaced by anything."""
    data = config_to_dict(draw(configs()))
    holder: Any = data
    key: Any = draw(st.sampled_from(sorted(data)))
    while isinstance(holder[key], dict | list) and holder[key] and draw(st.booleans()):
        holder = holder[key]
        key = draw(
            st.sampled_from(sorted(holder))
            if isinstance(holder, dict)
            else st.integers(0, len(holder) - 1)
        )
    holder[key] = draw(DATA)
    return data


@settings(max_examples=100, deadline=None, derandomize=True)
@given(mutated())
def test_one_bad_value_anywhere_raises_only_field_error(raw: dict[str, Any]) -> None:
    parses_or_raises_field_error(raw)
