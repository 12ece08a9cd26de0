"""Property: any valid Anthropic request becomes an OpenAI request the official SDK accepts,
with every tool call answered by tool messages placed right after it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.openai.request import anthropic_to_openai
from tests.proxy.core.openai.openai_checks import assert_valid_openai_request

texts = st.text(min_size=1, max_size=20)
names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_-]{0,15}", fullmatch=True)
cache_control = st.sampled_from([{}, {"cache_control": {"type": "ephemeral"}}])
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)

text_blocks = st.builds(
    lambda text, extra: {"type": "text", "text": text} | extra, texts, cache_control
)
base64_sources = st.builds(
    lambda media_type, data: {"type": "base64", "media_type": media_type, "data": data},
    st.sampled_from(["image/png", "image/jpeg", "image/gif", "image/webp"]),
    st.from_regex(r"[A-Za-z0-9+/]{4,16}={0,2}", fullmatch=True),
)
url_sources = st.builds(
    lambda path: {"type": "url", "url": f"https://example.com/{path}.png"}, names
)
image_blocks = st.builds(
    lambda source: {"type": "image", "source": source}, base64_sources | url_sources
)
document_blocks = st.one_of(
    st.builds(
        lambda data, title: (
            {
                "type": "document",
                "source": {"type": "base64", "media_type": "application/pdf", "data": data},
            }
            | title
        ),
        st.from_regex(r"[A-Za-z0-9+/]{4,16}", fullmatch=True),
        st.sampled_from([{}, {"title": "report.pdf"}]),
    ),
    st.builds(
        lambda data: {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": data},
        },
        texts,
    ),
)
user_blocks = st.one_of(text_blocks, text_blocks, image_blocks, document_blocks)
thinking_blocks = st.builds(
    lambda thinking: {"type": "thinking", "thinking": thinking, "signature": "sig"}, texts
)
result_content = st.one_of(
    st.just(None), texts, st.lists(st.one_of(text_blocks, image_blocks), max_size=3)
)
schemas = st.builds(
    lambda properties, meta: {"type": "object", "properties": properties} | meta,
    st.dictionaries(
        names,
        st.sampled_from(
            [
                {"type": "string"},
                {"type": "string", "format": "uri"},
                {"type": "integer", "description": "n"},
                {"type": "array", "items": {"type": "number"}},
                {"anyOf": [{"type": "string"}, {"type": "null"}]},
            ]
        ),
        max_size=4,
    ),
    st.sampled_from([{}, {"$schema": "http://json-schema.org/draft-07/schema#"}, {"required": []}]),
)


@st.composite
def tool_results(draw: st.DrawFn, call_ids: list[str]) -> list[dict[str, Any]]:
    results = []
    for call_id in draw(st.permutations(call_ids)):
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
        content = draw(result_content)
        if content is not None:
            block["content"] = content
        if draw(st.booleans()):
            block["is_error"] = draw(st.booleans())
        results.append(block)
    return results


@st.composite
def assistant_turns(draw: st.DrawFn, tools: list[str]) -> tuple[dict[str, Any], list[str]]:
    blocks: list[dict[str, Any]] = draw(st.lists(thinking_blocks, max_size=1))
    blocks += draw(st.lists(text_blocks, max_size=2))
    count = draw(st.integers(0, 3)) if tools else 0
    call_ids = [f"toolu_{draw(names)}_{n}" for n in range(count)]
    for call_id in call_ids:
        tool_input = draw(st.dictionaries(names, json_values, max_size=3))
        blocks.append(
            {
                "type": "tool_use",
                "id": call_id,
                "name": draw(st.sampled_from(tools)),
                "input": tool_input,
            }
        )
    if not blocks:
        blocks = [{"type": "text", "text": draw(texts)}]
    content: Any = blocks
    if len(blocks) == 1 and blocks[0]["type"] == "text" and draw(st.booleans()):
        content = blocks[0]["text"]
    return {"role": "assistant", "content": content}, call_ids


@st.composite
def conversations(draw: st.DrawFn, tools: list[str]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    call_ids: list[str] = []
    for turn in range(draw(st.integers(1, 4))):
        if turn:
            assistant, call_ids = draw(assistant_turns(tools))
            messages.append(assistant)
        blocks = draw(tool_results(call_ids)) + draw(
            st.lists(user_blocks, min_size=0 if call_ids else 1, max_size=3)
        )
        plain = not call_ids and draw(st.booleans())
        messages.append({"role": "user", "content": draw(texts) if plain else blocks})
    return messages


@st.composite
def anthropic_requests(draw: st.DrawFn) -> dict[str, Any]:
    tool_names = draw(st.lists(names, max_size=3, unique=True))
    tools = [
        {"name": name, "description": draw(texts), "input_schema": draw(schemas)}
        | draw(cache_control)
        for name in tool_names
    ]
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(["gpt-4o", "deepseek-chat", "qwen/qwen3-coder"])),
        "max_tokens": draw(st.integers(1, 64_000)),
        "messages": draw(conversations(tool_names)),
    }
    optional = {
        "system": st.one_of(texts, st.lists(text_blocks, min_size=1, max_size=2)),
        "tools": st.just(tools),
        "tool_choice": st.sampled_from(_tool_choices(tool_names)),
        "temperature": st.floats(0, 1),
        "top_p": st.floats(0, 1),
        "top_k": st.integers(1, 100),
        "stop_sequences": st.lists(texts, max_size=6),
        "stream": st.booleans(),
        "thinking": st.just({"type": "enabled", "budget_tokens": 1024}),
        "metadata": st.builds(
            lambda user_id: {"user_id": user_id}, st.text(min_size=1, max_size=150)
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            body[key] = draw(strategy)
    return body


def _tool_choices(tool_names: list[str]) -> list[dict[str, Any]]:
    choices: list[dict[str, Any]] = [{"type": "auto"}, {"type": "any"}, {"type": "none"}]
    choices += [{"type": "tool", "name": name} for name in tool_names]
    return choices + [choice | {"disable_parallel_tool_use": True} for choice in choices]


def assert_tool_messages_follow_their_calls(messages: list[dict[str, Any]]) -> None:
    awaiting: set[str] = set()
    for message in messages:
        if message["role"] == "tool":
            assert message["tool_call_id"] in awaiting
            awaiting.discard(message["tool_call_id"])
            continue
        assert not awaiting, "every call is answered before the next message"
        if message["role"] == "assistant":
            ids = [call["id"] for call in message.get("tool_calls", [])]
            assert len(ids) == len(set(ids))
            awaiting = set(ids)


def count_blocks(body: dict[str, Any], kind: str) -> int:
    return sum(
        1
        for message in body["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block["type"] == kind
    )


@settings(max_examples=150, deadline=None)
@given(anthropic_requests())
def test_any_valid_request_translates_to_a_valid_openai_request(body: dict[str, Any]) -> None:
    translated = anthropic_to_openai(body)
    assert_valid_openai_request(translated)
    messages = translated["messages"]
    assert_tool_messages_follow_their_calls(messages)
    assert sum(m["role"] == "tool" for m in messages) == count_blocks(body, "tool_result")
    calls = sum(len(m.get("tool_calls", [])) for m in messages)
    assert calls == count_blocks(body, "tool_use")
    assert ("stream_options" in translated) == (body.get("stream") is True)
    assert len(translated.get("user", "")) <= 64
    assert len(translated.get("stop", [])) <= 4
    assert not {"thinking", "top_k", "metadata", "system", "stop_sequences"} & set(translated)
    assert "cache_control" not in repr(translated)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["model", "messages", "system", "tools", "tool_choice", "metadata", "stream"]
        ),
        json_values,
    )
)
def test_arbitrary_json_never_crashes(body: dict[str, Any]) -> None:
    anthropic_to_openai(body)
