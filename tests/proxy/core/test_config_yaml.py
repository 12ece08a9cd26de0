"""YAML text to `Config`: errors that name the file, the line, the key path, value and fix."""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.config import Config, Endpoint, KeySource, Listen, Secret, Security, parse_config
from proxy.core.config_yaml import (
    ALIAS_BUDGET,
    MAX_CONFIG_CHARS,
    MAX_DEPTH,
    Loader,
    config_to_yaml,
    parse_config_text,
    read_yaml,
)
from proxy.core.errors import CcfError, ConfigError
from tests.proxy.core.strategies import configs

DESIGN_YAML = """\
listen: {host: 127.0.0.1, port: 8765}
endpoints:                      # failover order; the first is the primary
  - name: anthropic
    base_url: https://api.anthropic.com
    auth: client                # client | x-api-key | bearer
  - name: openrouter
    base_url: https://openrouter.ai/api
    format: anthropic           # anthropic (default) | openai
    auth: bearer
    key: keyring                # keyring (default) | env:VAR_NAME
    models:                     # first match wins; exact names or * globs
      "claude-haiku-*": anthropic/claude-haiku-4.5
      "*": anthropic/claude-sonnet-4.5
    headers: {}                 # extra request headers; a null value removes one
    enabled: true
routing: {pinned: null, paused: false}
failover:
  on_status: [401, 403, 404, 408, 409, 429, 5xx]
  cooldown_seconds: 30          # first cooldown; doubles per consecutive failure
  max_cooldown_seconds: 1800
timeouts: {connect: 10, first_byte: 90, idle: 180}   # seconds
security: {access_token: null}
"""


LOL = '"lol"'
ALIAS_BOMB = f"a: &a [{', '.join([LOL] * 9)}]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)  # 9**9 values from 0.4 KB


def config_error(text: str, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, env or {})
    return info.value


def test_design_example_parses() -> None:
    config = parse_config_text(DESIGN_YAML, {})
    assert [e.name for e in config.endpoints] == ["anthropic", "openrouter"]
    assert config.endpoints[1] == Endpoint(
        name="openrouter",
        base_url="https://openrouter.ai/api",
        auth="bearer",
        models=(
            ("claude-haiku-*", "anthropic/claude-haiku-4.5"),
            ("*", "anthropic/claude-sonnet-4.5"),
        ),
    )
    assert config.failover.on_status == (401, 403, 404, 408, 409, 429, "5xx")
    assert config == parse_config(yaml.safe_load(DESIGN_YAML), {})


def test_env_is_applied() -> None:
    text = "listen: {port: 8000}\nendpoints:\n  - {name: a, base_url: 'https://${H}'}\n"
    config = parse_config_text(text, {"H": "h.example", "CCF_PORT": "9001"})
    assert config.endpoints[0].base_url == "https://h.example"
    assert config.listen == Listen("127.0.0.1", 9001)


@pytest.mark.parametrize("text", ["", "   \n\n", "\t"])
def test_empty_file_is_an_error_not_the_default(text: str) -> None:
    error = config_error(text)
    assert "config.yaml is empty" in str(error)
    assert "Delete it" in str(error)
    assert isinstance(error, CcfError)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("listen: {port: 8765\n", 2),
        ("endpoints:\n  - name: a\n   base_url: x\n", 3),
        ("listen:\n  host: 'unterminated\n", 3),
        ("a: b: c\n", 1),
        ("listen: !!python/object:os.system {}\n", 1),
    ],
)
def test_invalid_yaml_names_the_line(text: str, line: int) -> None:
    error = config_error(text)
    assert error.line == line
    assert str(error).startswith(f"config.yaml line {line}: not valid YAML (")
    assert "delete it to start from the built-in default" in str(error)


def test_invalid_characters_are_a_config_error() -> None:
    error = config_error("listen: {host: \x07}\n")
    assert "config.yaml" in str(error)
    assert "not valid YAML" in str(error)


def test_source_names_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("listen: []\n", {}, "/home/u/.config/ccf/config.yaml")
    assert str(info.value).startswith("/home/u/.config/ccf/config.yaml line 1: listen: ")


BAD_YAML = """\
listen:
  host: 127.0.0.1
  port: 8765
endpoints:
  - name: anthropic
    base_url: https://api.anthropic.com
  - name: openrouter
    base_url: https://openrouter.ai/api
    auth: bearer
    models:
      "claude-3.5-*": anthropic/claude-3.5-sonnet
failover:
  on_status: [429, 5xx]
"""


def edit(old: str, new: str) -> str:
    assert old in BAD_YAML
    return BAD_YAML.replace(old, new)


LINE_CASES: list[tuple[str, str, int, tuple[str, ...]]] = [
    (edit("    auth: bearer", "    auth: oauth"), "endpoints[1].auth", 9, ("'oauth'", "bearer")),
    (edit("  port: 8765", "  port: http"), "listen.port", 3, ("'http'", "1 to 65535")),
    (edit("listen:", "listn:"), "listn", 1, ("unknown key", "listen")),
    (
        edit("    base_url: https://openrouter.ai/api\n", ""),
        "endpoints[1].base_url",
        7,
        ("missing",),
    ),
    (edit("[429, 5xx]", "[429, 6xx]"), "failover.on_status[1]", 13, ("'6xx'", "5xx")),
    (
        edit("anthropic/claude-3.5-sonnet", "''"),
        "endpoints[1].models.claude-3.5-*",
        11,
        ("''", "non-empty string"),
    ),
    (edit("  - name: openrouter", "  - name: anthropic"), "endpoints[1].name", 7, ("used twice",)),
    (
        edit("  host: 127.0.0.1", "  host: 0.0.0.0"),
        "listen.host",
        2,
        ("'0.0.0.0'", "security.access_token"),
    ),
    (
        edit("https://openrouter.ai/api", "https://${ROUTER_HOST}"),
        "endpoints[1].base_url",
        8,
        ("ROUTER_HOST",),
    ),
    (BAD_YAML + "routing: {pinned: groq}\n", "routing.pinned", 14, ("'groq'", "openrouter")),
    ("- listen\n", "", 1, ("expected a mapping", "['listen']")),
]


@pytest.mark.parametrize(
    ("text", "path", "line", "fragments"), LINE_CASES, ids=[case[1] or "top" for case in LINE_CASES]
)
def test_validation_error_names_file_line_path_value_and_fix(
    text: str, path: str, line: int, fragments: tuple[str, ...]
) -> None:
    error = config_error(text)
    assert (error.path, error.line) == (path, line)
    prefix = f"config.yaml line {line}: {path}: " if path else f"config.yaml line {line}: "
    assert str(error).startswith(prefix)
    for fragment in fragments:
        assert fragment in str(error)


# ---------------------------------------------------------------- found bugs: foreign errors escape


@pytest.mark.parametrize(
    "text",
    [
        "listen: {port: '²'}\n",
        "endpoints:\n  - {name: a, base_url: 'http://[::1'}\n",
        "failover: {on_status: ['³³³']}\n",
    ],
    ids=["port-superscript", "base-url-ipv6", "status-superscript"],
)
def test_odd_values_are_a_config_error_with_a_line(text: str) -> None:
    error = config_error(text)
    assert error.line is not None


@pytest.mark.parametrize(
    "text",
    [
        "endpoints: &loop [*loop]\n",  # an alias inside its own anchor: a recursive list
        "listen: &loop {host: *loop}\n",
        "[" * 600 + "]" * 600 + "\n",  # nesting deeper than the recursion limit
    ],
    ids=["recursive-list", "recursive-mapping", "deep-nesting"],
)
def test_pathological_yaml_is_a_config_error(text: str) -> None:
    config_error(text)


# ---------------------------------------------------------------- hostile shapes


def refusal_seconds(text: str) -> tuple[ConfigError, float]:
    started = time.perf_counter()
    error = config_error(text)
    return error, time.perf_counter() - started


def test_an_alias_bomb_is_refused_at_once_naming_the_line() -> None:
    error, seconds = refusal_seconds(ALIAS_BOMB)
    assert str(error).startswith("config.yaml line 5: aliases (*d here) stand for more than")
    assert error.line == 5
    assert seconds < 1  # it takes about a millisecond; expanding it would take gigabytes


def test_a_larger_alias_bomb_padded_to_0_7_kb_is_refused_too() -> None:
    text = "# " + "padding " * 40 + "\n" + ALIAS_BOMB
    assert len(text) > 700
    error, seconds = refusal_seconds(text)
    assert error.line == 6
    assert seconds < 1


@pytest.mark.parametrize(
    "text", ["{" * 5000, "{" * 5000 + "}" * 5000, "[" * 5000, "- " * 5000 + "x"]
)
def test_absurd_nesting_is_refused_fast(text: str) -> None:
    error, seconds = refusal_seconds(text)
    assert str(error).startswith("config.yaml line 1: nested more than 64 levels deep")
    assert seconds < 0.1  # about 2 ms with libyaml


def test_nesting_up_to_the_limit_is_read() -> None:
    deep = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert read_yaml(f"x: {deep}\n")[0] is not None
    assert "nested more than" in str(config_error(f"x: [{deep}]\n"))


def test_aliases_within_the_budget_are_expanded() -> None:
    text = """\
endpoints:
  - {name: a, base_url: "http://a.example", headers: &shared {x-team: blue, x-env: prod}}
  - {name: b, base_url: "http://b.example", headers: *shared}
  - {name: c, base_url: "http://c.example", headers: {<<: *shared, x-env: test}}
"""
    config = parse_config_text(text, {})
    assert config.endpoints[1].headers == config.endpoints[0].headers
    assert dict(config.endpoints[2].headers)["x-env"] == "test"


def test_the_alias_budget_counts_what_aliases_stand_for() -> None:
    big = "[" + ", ".join(["1"] * (ALIAS_BUDGET // 2)) + "]"
    assert read_yaml(f"a: &a {big}\nb: *a\n")[0]["b"][0] == 1
    error = config_error(f"a: &a {big}\nb: *a\nc: *a\n")
    assert error.line == 3


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("listen: {port: 1}\nlisten: {port: 2}\n", 2),
        ("endpoints:\n  - name: a\n    base_url: http://a.example\n    name: b\n", 4),
        ("listen: {host: 127.0.0.1, host: 0.0.0.0}\n", 1),
        ("failover: {1: x, 1: y}\n", 1),
    ],
)
def test_a_key_given_twice_is_refused_with_its_line(text: str, line: int) -> None:
    error = config_error(text)
    assert "appears twice" in str(error)
    assert error.line == line


def test_keys_that_only_look_alike_are_different() -> None:
    assert read_yaml("a: {1: x, '1': y}\n")[0] == {"a": {1: "x", "1": "y"}}


def test_a_text_over_the_size_limit_is_refused_before_parsing() -> None:
    error = config_error("# " + "x" * MAX_CONFIG_CHARS + "\n")
    assert "larger than 1024 KiB" in str(error)


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_read_yaml_agrees_with_its_yaml_loader_or_refuses(text: str) -> None:
    try:
        data, _ = read_yaml(text)
    except ConfigError:
        return
    assert data == yaml.load(text, Loader=Loader)


# ---------------------------------------------------------------- writing


def test_config_to_yaml_has_a_header_and_no_keys() -> None:
    config = Config(
        endpoints=(
            Endpoint(name="a", base_url="https://a.example", auth="x-api-key"),
            Endpoint(
                name="b",
                base_url="https://b.example",
                auth="bearer",
                key=KeySource(kind="env", env_var="B_KEY"),
            ),
        ),
    )
    text = config_to_yaml(config)
    assert text.startswith("# Claude Code Fallback configuration.")
    assert "key: keyring" in text
    assert "key: env:B_KEY" in text
    assert parse_config_text(text, {}) == config


def test_access_token_is_written_and_read_back() -> None:
    config = Config(
        listen=Listen("0.0.0.0", 8765), security=Security(access_token=Secret("0123456789abcdefgh"))
    )
    assert parse_config_text(config_to_yaml(config), {}) == config


def test_a_value_with_a_next_line_character_survives_writing() -> None:
    """PyYAML writes U+0085 raw with `allow_unicode=True` and reads it back as a space."""
    config = Config(endpoints=(Endpoint(name="a", base_url="https://a", models=(("*", "m\x85"),)),))
    assert parse_config_text(config_to_yaml(config), {}) == config


@settings(max_examples=50, deadline=None)
@given(configs())
def test_generated_configs_round_trip_through_yaml(config: Config) -> None:
    assert parse_config_text(config_to_yaml(config), {}) == config


# ---------------------------------------------------------------- arbitrary text

TOKENS = st.sampled_from(
    [
        "listen", "endpoints", "name", "base_url", "format", "auth", "key", "models",
        "headers", "enabled", "routing", "pinned", "paused", "failover", "on_status",
        "cooldown_seconds", "timeouts", "connect", "security", "access_token", "host", "port",
        ": ", ":", "- ", "\n", "\r\n", "  ", "    ", "\t", "{", "}", "[", "]", ", ", "'", '"',
        "#", "&a ", "*a", "!!binary ", "!!str ", "!!int ", "!!set ", "? ", "<<: ", "---",
        "...", "|", ">", "%YAML 1.1\n", "null", "~", "true", "no", "0", "-1", "8765", "1e400",
        ".nan", "5xx", "²", "${X}", "${NOPE}", "env:X", "keyring", "https://a.example",
        "http://[::1", "2001-12-14", "\\x00", "\x85", "\ufeff",
    ]
)  # fmt: skip
YAMLISH = st.lists(st.one_of(TOKENS, st.text(max_size=4)), max_size=40).map("".join)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(YAMLISH)
def test_arbitrary_text_raises_only_config_error(text: str) -> None:
    try:
        config = parse_config_text(text, {"X": "x"})
    except ConfigError as error:
        assert str(error).startswith("config.yaml")  # noqa: PT017
        return
    assert isinstance(config, Config)


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=15,
)


@st.composite
def mutated_yaml(draw: st.DrawFn) -> str:
    """A valid config as YAML with one value somewhere replaced by anything."""
    data: dict[str, Any] = yaml.safe_load(config_to_yaml(draw(configs())))
    holder: Any = data
    key: Any = draw(st.sampled_from(sorted(data)))
    while isinstance(holder[key], dict | list) and holder[key] and draw(st.booleans()):
        holder = holder[key]
        keys = sorted(holder) if isinstance(holder, dict) else list(range(len(holder)))
        key = draw(st.sampled_from(keys))
    holder[key] = draw(JSONISH)
    return yaml.safe_dump(data, sort_keys=False)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(mutated_yaml())
def test_one_bad_value_anywhere_points_at_a_line(text: str) -> None:
    try:
        parse_config_text(text, {})
    except ConfigError as error:
        assert error.line is not None  # noqa: PT017
        assert 1 <= error.line <= text.count("\n")  # noqa: PT017
