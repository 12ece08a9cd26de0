"""Thinking across providers: foreign signatures stripped, the thinking-first rule kept."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.config import Endpoint
from proxy.core.rewrite import rewrite_anthropic
from proxy.core.thinking import (
    Provenance,
    SignatureBook,
    final_assistant_turn,
    is_thinking_block,
    plan_thinking,
    seal,
    seal_of_event,
    seals_of_answer,
)

PRIMARY = Endpoint(name="anthropic", base_url="https://api.anthropic.com")
FALLBACK = Endpoint(name="glm", base_url="https://api.z.ai/api/anthropic")


def thought(signature: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": "hmm", "signature": signature}


def tool_turn(signature: str | None, n: int) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = [] if signature is None else [thought(signature)]
    content.append({"type": "tool_use", "id": f"t{n}", "name": "Read", "input": {}})
    return [
        {"role": "assistant", "content": content},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": f"t{n}", "content": "ok"}],
        },
    ]


def request(*turns: list[dict[str, Any]]) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "do it"}]
    for turn in turns:
        messages += turn
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1000,
        "thinking": {"type": "enabled", "budget_tokens": 2000},
        "messages": messages,
        "stream": True,
    }


def send(data: dict[str, Any], endpoint: Endpoint, book: SignatureBook) -> dict[str, Any]:
    body = json.dumps(data).encode()
    out = rewrite_anthropic(body, endpoint, Provenance(PRIMARY.signer, book)).body
    return data if out is None else json.loads(out)


def signatures(data: dict[str, Any]) -> list[str]:
    return [
        seal(b) for m in data["messages"] if isinstance(m["content"], list) for b in m["content"]
        if is_thinking_block(b)
    ]  # fmt: skip


def test_primary_to_fallback_strips_the_primarys_signatures_and_turns_thinking_off() -> None:
    data = request(tool_turn("sig-anthropic-1", 1), tool_turn("sig-anthropic-2", 2))
    sent = send(data, FALLBACK, SignatureBook())
    assert signatures(sent) == []
    assert "thinking" not in sent  # the final assistant turn no longer starts with thinking
    assert sent["messages"][-2]["content"] == [data["messages"][-2]["content"][1]]


def test_fallback_to_primary_strips_the_fallbacks_signatures_only() -> None:
    book = SignatureBook()
    book.record(FALLBACK.signer, ["sig-glm-3"])
    data = request(tool_turn("sig-anthropic-1", 1), tool_turn("sig-glm-3", 3))
    sent = send(data, PRIMARY, book)
    assert signatures(sent) == ["sig-anthropic-1"]
    assert "thinking" not in sent


def test_a_provider_keeps_its_own_signatures_and_thinking() -> None:
    book = SignatureBook()
    book.record(FALLBACK.signer, ["sig-glm-3", "sig-glm-4"])
    data = request(
        tool_turn("sig-anthropic-1", 1), tool_turn("sig-glm-3", 3), tool_turn("sig-glm-4", 4)
    )
    sent = send(data, FALLBACK, book)
    assert signatures(sent) == ["sig-glm-3", "sig-glm-4"]
    assert sent["thinking"] == data["thinking"]
    back = send(data, PRIMARY, book)
    assert signatures(back) == ["sig-anthropic-1"]
    assert "thinking" not in back


def test_a_turn_that_never_had_thinking_goes_with_thinking_off() -> None:
    sent = send(request(tool_turn(None, 1)), FALLBACK, SignatureBook())
    assert "thinking" not in sent


def test_unsigned_and_redacted_blocks() -> None:
    book = SignatureBook()
    redacted = {"type": "redacted_thinking", "data": "opaque-glm"}
    book.record(FALLBACK.signer, ["opaque-glm"])
    data = request(tool_turn("", 1))
    data["messages"][1]["content"].insert(0, redacted)
    to_fallback = send(data, FALLBACK, book)
    assert to_fallback["messages"][1]["content"][0] == redacted  # its own, kept
    assert "thinking" in to_fallback
    to_primary = send(data, PRIMARY, book)
    assert signatures(to_primary) == []
    assert "thinking" not in to_primary


def test_the_signature_retry_strips_everything() -> None:
    data = request(tool_turn("sig-anthropic-1", 1))
    body = json.dumps(data).encode()
    out = json.loads(rewrite_anthropic(body, PRIMARY, None).body or b"")
    assert signatures(out) == []
    assert "thinking" not in out


def test_an_assistant_message_of_only_thinking_keeps_a_placeholder() -> None:
    data = request()
    data["messages"] += [
        {"role": "assistant", "content": [thought("x")]},
        {"role": "user", "content": "go on"},
    ]
    out = send(data, FALLBACK, SignatureBook())
    assert out["messages"][1]["content"] == [{"type": "text", "text": "(thinking omitted)"}]
    assert out["thinking"] == data["thinking"]  # not a tool loop: thinking stays on


def test_with_thinking_off_a_final_assistant_message_holds_no_thinking() -> None:
    data = {
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [thought("s"), {"type": "text", "text": "a"}]},
        ]
    }
    change = plan_thinking(data, PRIMARY.signer, Provenance(PRIMARY.signer))
    assert change.strip == {1: frozenset({0})}


def test_while_only_the_primary_served_its_requests_are_not_parsed() -> None:
    body = json.dumps(request(tool_turn("sig", 1))).encode()
    book = SignatureBook()
    assert rewrite_anthropic(body, PRIMARY, Provenance(PRIMARY.signer, book)).body is None
    book.record(FALLBACK.signer, [])
    assert book.foreign
    assert rewrite_anthropic(body, PRIMARY, Provenance(PRIMARY.signer, book)).body is None


def test_the_book_forgets_the_oldest_past_its_size() -> None:
    book = SignatureBook(size=2)
    book.record("a", ["1", "2"])
    book.record("b", ["3"])
    assert (book.signer("1"), book.signer("2"), book.signer("3")) == (None, "a", "b")
    book.record("c", ["2"])  # seen again: the newest now
    book.record("c", ["4"])
    assert (book.signer("2"), book.signer("3")) == ("c", None)
    assert len(book) == 2


def test_seals_are_found_in_answers_and_events() -> None:
    answer = {
        "type": "message",
        "content": [
            thought("s1"),
            {"type": "redacted_thinking", "data": "d1"},
            {"type": "text", "text": "hi"},
        ],
    }
    assert seals_of_answer(json.dumps(answer).encode()) == ["s1", "d1"]
    assert seals_of_answer(b'{"type":"message","content":[]}') == []
    assert seals_of_answer(b'{"signature": broken') == []
    delta = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "signature_delta", "signature": "s2"},
    }
    assert seal_of_event("content_block_delta", json.dumps(delta)) == "s2"
    start = {
        "type": "content_block_start",
        "index": 1,
        "content_block": {"type": "redacted_thinking", "data": "d2"},
    }
    assert seal_of_event("content_block_start", json.dumps(start)) == "d2"
    assert (
        seal_of_event(
            "content_block_delta", '{"delta":{"type":"text_delta","text":"signature_delta"}}'
        )
        == ""
    )
    assert seal_of_event("message_start", json.dumps(delta)) == ""


def test_final_assistant_turn() -> None:
    assert final_assistant_turn([]) is None
    assert final_assistant_turn(request()["messages"]) is None
    assert final_assistant_turn(request(tool_turn("s", 1))["messages"]) == 1


SIGNERS = st.sampled_from(["p", "f", "g", ""])


@settings(deadline=None, max_examples=200)
@given(
    st.lists(st.tuples(st.one_of(st.none(), SIGNERS), st.booleans()), max_size=6),
    SIGNERS.filter(bool),
    st.booleans(),
)
def test_what_is_sent_keeps_the_rules(
    turns: list[tuple[str | None, bool]], target: str, on: bool
) -> None:
    """Whatever the history, what a provider gets holds only its own signatures, and a
    tool loop with thinking on starts its final assistant turn with thinking."""
    book = SignatureBook()
    book.record("f", [])  # a switch happened: the primary's requests are looked at too
    data = request(
        *(
            tool_turn(None if who is None else who and f"{who}-{n}", n)
            for n, (who, _) in enumerate(turns)
        )
    )
    if not on:
        del data["thinking"]
    for n, (who, _) in enumerate(turns):
        if who and who != "p":
            book.record(who, [f"{who}-{n}"])
    target_endpoint = Endpoint(name="t", base_url=target)
    out = json.loads(
        rewrite_anthropic(json.dumps(data).encode(), target_endpoint, Provenance("p", book)).body
        or json.dumps(data)
    )
    assert all(s.startswith(f"{target}-") for s in signatures(out))
    turn = final_assistant_turn(out["messages"])
    if "thinking" in out and turn is not None:
        assert is_thinking_block(out["messages"][turn]["content"][0])
