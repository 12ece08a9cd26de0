"""Thinking across providers: which signed thinking blocks a provider accepts, and the
Messages API's thinking-first rule for tool loops.

A thinking block carries a `signature` (a `redacted_thinking` block its `data`) that only
the provider that made it can verify; another provider refuses the whole request. The
signature itself does not say who made it, so the proxy remembers: every signature a
non-primary provider sends back is written in a `SignatureBook` under that provider's
signer (its API root). A signature the book does not know is taken to be the primary's,
where conversations start (and where the proxy, restarted, cannot know better; the
signature 400 and its one retry without thinking cover that case).

Stripping may leave the final assistant turn of a tool loop without the thinking block it
must start with while thinking is on; then the request goes with thinking off.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

THINKING_BLOCKS = frozenset({"thinking", "redacted_thinking"})
THINKING_ON = frozenset({"enabled", "adaptive"})
PLACEHOLDER = {"type": "text", "text": "(thinking omitted)"}


def seal(block: Mapping[str, Any]) -> str:
    """What proves a thinking block's origin: its signature, or a redacted block's data."""
    value = block.get("signature" if block.get("type") == "thinking" else "data")
    return value if isinstance(value, str) else ""


def _fingerprint(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class SignatureBook:
    """Which signer made which signatures, for signatures not the primary's.

    Bounded: past `size` entries the oldest are forgotten (they then count as the
    primary's). `foreign` turns true once any non-primary provider has answered, so while
    only the primary serves, requests to it need no look at their thinking blocks.
    """

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self.foreign = False
        self._signers: dict[bytes, str] = {}

    def __len__(self) -> int:
        return len(self._signers)

    def record(self, signer: str, seals: Iterable[str]) -> None:
        self.foreign = True
        for text in seals:
            if not text:
                continue
            key = _fingerprint(text)
            self._signers.pop(key, None)  # re-inserted: now the newest
            self._signers[key] = signer
            if len(self._signers) > self.size:
                del self._signers[next(iter(self._signers))]

    def signer(self, text: str) -> str | None:
        return self._signers.get(_fingerprint(text))


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who made the signatures in a request: the book, else the primary."""

    primary: str
    book: SignatureBook = field(default_factory=SignatureBook)

    def producer(self, text: str) -> str:
        return self.book.signer(text) or self.primary

    def may_strip_for(self, target: str) -> bool:
        """Whether a request to `target` can hold a block `target` did not make."""
        return target != self.primary or self.book.foreign


def is_thinking_block(block: object) -> bool:
    return isinstance(block, dict) and block.get("type") in THINKING_BLOCKS


def thinking_on(data: Mapping[str, Any]) -> bool:
    config = data.get("thinking")
    return isinstance(config, dict) and config.get("type") in THINKING_ON


@dataclass(frozen=True, slots=True)
class ThinkingChange:
    """What a request needs before it goes to one provider: thinking blocks to take out
    (message index -> block indexes) and whether thinking must be turned off."""

    strip: Mapping[int, frozenset[int]]
    thinking_off: bool

    @property
    def changes(self) -> bool:
        return bool(self.strip) or self.thinking_off


def _blocks(message: object) -> list[Any]:
    if not isinstance(message, dict):
        return []
    content = message.get("content")
    return content if isinstance(content, list) else []


def _foreign_blocks(
    messages: Sequence[Any], target: str, provenance: Provenance | None
) -> dict[int, frozenset[int]]:
    """Blocks `target` would refuse: unsigned ones, and (all of them without `provenance`)
    those another signer made."""
    strip: dict[int, frozenset[int]] = {}
    for i, message in enumerate(messages):
        gone = frozenset(
            j
            for j, block in enumerate(_blocks(message))
            if is_thinking_block(block)
            and (
                provenance is None or not seal(block) or provenance.producer(seal(block)) != target
            )
        )
        if gone:
            strip[i] = gone
    return strip


def _role(message: object) -> object:
    return message.get("role") if isinstance(message, dict) else None


def final_assistant_turn(messages: Sequence[Any]) -> int | None:
    """The index of the assistant message a tool loop continues from: the last assistant
    message when the conversation ends with a user turn carrying a `tool_result`."""
    if not messages or _role(messages[-1]) != "user":
        return None
    if not any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in _blocks(messages[-1])
    ):
        return None
    for i in range(len(messages) - 2, -1, -1):
        if _role(messages[i]) == "assistant":
            return i
    return None


def _starts_with_thinking(message: object, removed: frozenset[int]) -> bool:
    kept = [block for j, block in enumerate(_blocks(message)) if j not in removed]
    return bool(kept) and is_thinking_block(kept[0])


def plan_thinking(
    data: Mapping[str, Any], target: str, provenance: Provenance | None
) -> ThinkingChange:
    """The thinking change a request needs before it goes to the provider signing as
    `target`. `provenance` None strips every thinking block (the signature-400 retry)."""
    messages = data.get("messages")
    if not isinstance(messages, list):
        return ThinkingChange({}, False)
    strip = _foreign_blocks(messages, target, provenance)
    off = False
    if thinking_on(data):
        turn = final_assistant_turn(messages)
        off = turn is not None and not _starts_with_thinking(
            messages[turn], strip.get(turn, frozenset())
        )
    if (off or not thinking_on(data)) and messages and _role(messages[-1]) == "assistant":
        # with thinking off, a final assistant message may not hold thinking blocks
        last = len(messages) - 1
        strip[last] = frozenset(
            j for j, b in enumerate(_blocks(messages[-1])) if is_thinking_block(b)
        )
        if not strip[last]:
            del strip[last]
    return ThinkingChange(strip, off)


def signatures_in_message(message: object) -> list[str]:
    """The seals of the thinking blocks of a response message (a non-streamed answer)."""
    return [seal(block) for block in _blocks(message) if is_thinking_block(block)]


def signature_in_event(data: Mapping[str, Any]) -> str:
    """The seal an SSE event's data carries: a `signature_delta`, or a `redacted_thinking`
    block's data at its start; "" for every other event."""
    delta = data.get("delta")
    if isinstance(delta, dict) and delta.get("type") == "signature_delta":
        value = delta.get("signature")
        return value if isinstance(value, str) else ""
    block = data.get("content_block")
    if isinstance(block, dict) and block.get("type") == "redacted_thinking":
        return seal(block)
    return ""


def seal_of_event(event: str, data: str) -> str:
    """The seal an SSE event carries ("" for most events, found without parsing them)."""
    if event not in ("content_block_delta", "content_block_start"):
        return ""
    if "signature_delta" not in data and "redacted_thinking" not in data:
        return ""
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError):
        return ""
    return signature_in_event(parsed) if isinstance(parsed, dict) else ""


def seals_of_answer(body: bytes) -> list[str]:
    """The seals of the thinking blocks in a whole (non-streamed) Messages answer."""
    if b'"signature"' not in body and b'"redacted_thinking"' not in body:
        return []
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return []
    return signatures_in_message(parsed)
