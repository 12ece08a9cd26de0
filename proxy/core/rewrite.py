"""The request body one endpoint gets: only `model`, `max_tokens` and `thinking` change,
and thinking blocks the provider would refuse are taken out.

For an Anthropic-format endpoint the client's bytes are kept: the changes are spliced into
the text (`proxy.core.jsonspan`), so every other byte, escape and number stays as sent. A
body that is not a UTF-8 JSON object is forwarded unchanged. For an OpenAI-format endpoint
the parsed request gets the same changes before it is translated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from proxy.core.body import max_tokens_within
from proxy.core.config import Endpoint
from proxy.core.jsonspan import (
    NOTHING,
    Edit,
    Expand,
    NotEditable,
    Span,
    as_dict,
    document,
    removals,
    replacement,
    splice,
)
from proxy.core.limits import Clamp, clamp_output
from proxy.core.models import map_model
from proxy.core.thinking import PLACEHOLDER, Provenance, ThinkingChange, plan_thinking

KEEP_THINKING = ThinkingChange({}, thinking_off=False)

_THINKING_MARKS = (b'"thinking"', b'"redacted_thinking"')
# The parts a rewrite may edit inside: each message's content blocks. Decoded with their
# spans in the one pass over the body.
REQUEST_PARTS: Expand = {"messages": {"content": NOTHING}}


@dataclass(frozen=True, slots=True)
class Rewritten:
    """The body to send (None: the client's, unchanged) and the model it now names."""

    body: bytes | None = None
    mapped: str | None = None
    thinking_off: bool = False
    stripped: int = 0  # thinking blocks taken out


UNCHANGED = Rewritten()


def _may_strip(body: bytes, endpoint: Endpoint, provenance: Provenance | None) -> bool:
    """A cheap look: could this body hold thinking blocks `endpoint` would refuse?"""
    if provenance is not None and not provenance.may_strip_for(endpoint.signer):
        return False
    return any(mark in body for mark in _THINKING_MARKS)


def rewrite_anthropic(body: bytes, endpoint: Endpoint, provenance: Provenance | None) -> Rewritten:
    """`body` as `endpoint` (Anthropic format) takes it. `provenance` None strips every
    thinking block: the retry after a signature 400."""
    strips = _may_strip(body, endpoint, provenance)
    if not (strips or endpoint.models or _may_clamp(body, endpoint)):
        return UNCHANGED
    try:
        text = body.decode("utf-8")
        return _rewrite_text(text, endpoint, provenance if strips else NO_STRIP)
    except (UnicodeDecodeError, NotEditable):
        return UNCHANGED


def _may_clamp(body: bytes, endpoint: Endpoint) -> bool:
    limit = endpoint.limits.max_output_tokens
    return limit is not None and not max_tokens_within(body, limit)


NO_STRIP = Provenance("")  # a stand-in: the thinking rules are not looked at


def _rewrite_text(text: str, endpoint: Endpoint, provenance: Provenance | None) -> Rewritten:
    strips = provenance is not NO_STRIP
    spans = document(text, REQUEST_PARTS if strips else NOTHING)
    data = as_dict(spans)
    change = plan_thinking(data, endpoint.signer, provenance) if strips else KEEP_THINKING
    clamp = clamp_output(data.get("max_tokens"), data.get("thinking"), _output_limit(endpoint))
    edits, mapped = _model_edits(spans, endpoint)
    edits += _limit_edits(spans, data, clamp, change.thinking_off)
    edits += _strip_edits(spans, change)
    if not edits:
        return UNCHANGED
    new = splice(text, edits).encode("utf-8")
    off = change.thinking_off or (clamp is not None and clamp.thinking_off)
    return Rewritten(new, mapped, off, sum(len(gone) for gone in change.strip.values()))


def _output_limit(endpoint: Endpoint) -> int | None:
    return endpoint.limits.max_output_tokens


def _named(spans: list[Span], key: str) -> list[Span]:
    return [span for span in spans if span.key == key]


def _model_edits(spans: list[Span], endpoint: Endpoint) -> tuple[list[Edit], str | None]:
    edits: list[Edit] = []
    mapped = None
    for span in _named(spans, "model"):
        if (
            isinstance(span.value, str)
            and (target := map_model(span.value, endpoint.models)) != span.value
        ):
            edits.append(replacement(span, target))
            mapped = target
    return edits, mapped


def _limit_edits(
    spans: list[Span], data: Mapping[str, Any], clamp: Clamp | None, thinking_off: bool
) -> list[Edit]:
    edits: list[Edit] = []
    if clamp is not None:
        edits += [replacement(span, clamp.max_tokens) for span in _named(spans, "max_tokens")]
    thinking = _named(spans, "thinking")
    if thinking_off or (clamp is not None and clamp.thinking_off):
        edits += removals(spans, {i for i, span in enumerate(spans) if span.key == "thinking"})
    elif clamp is not None and clamp.budget is not None:
        new = {**data["thinking"], "budget_tokens": clamp.budget}
        edits += [replacement(span, new) for span in thinking]
    return edits


def _parts(span: Span) -> list[Span]:
    if span.children is None:  # a value that was not walked into: nothing here to edit
        raise NotEditable(f"no parts at {span.value_start}")
    return list(span.children)


def _strip_edits(spans: list[Span], change: ThinkingChange) -> list[Edit]:
    if not change.strip:
        return []
    messages = _parts(_named(spans, "messages")[-1])
    edits: list[Edit] = []
    for index, gone in change.strip.items():
        content = _named(_parts(messages[index]), "content")[-1]
        blocks = _parts(content)
        if len(gone) == len(blocks):
            edits.append(replacement(content, [PLACEHOLDER]))
        else:
            edits += removals(blocks, set(gone))
    return edits


def rewrite_data(data: dict[str, Any], endpoint: Endpoint) -> tuple[dict[str, Any], str | None]:
    """The parsed request as `endpoint` (OpenAI format, which drops thinking) takes it,
    and the mapped model (None when it did not change)."""
    mapped = None
    model = data.get("model")
    if isinstance(model, str) and (target := map_model(model, endpoint.models)) != model:
        data, mapped = {**data, "model": target}, target
    clamp = clamp_output(data.get("max_tokens"), None, _output_limit(endpoint))
    if clamp is not None:
        data = {**data, "max_tokens": clamp.max_tokens}
    return data, mapped
