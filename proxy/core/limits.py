"""Endpoint limits: which requests a provider cannot take, and `max_tokens` clamped to it."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from proxy.core.config import Endpoint, Limits

IMAGE_TOKENS = 1600  # about what one full-size image costs
CHARS_PER_TOKEN = 3.5  # text and code, on the cautious side
MIN_THINKING_BUDGET = 1024  # the Messages API's least `budget_tokens`


@dataclass(frozen=True, slots=True)
class Needs:
    """What a request asks of a provider."""

    images: bool
    tools: int
    input_tokens: int  # estimated


def _is_image(node: Mapping[str, Any]) -> bool:
    return node.get("type") == "image" and isinstance(node.get("source"), dict)


def needs_of(data: Mapping[str, Any]) -> Needs:
    """The images, tools and estimated input tokens of a Messages request."""
    chars, images = 0, 0
    stack: list[Any] = [data.get(name) for name in ("system", "messages", "tools")]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            chars += len(node)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if _is_image(node):
                images += 1
                continue  # its base64 is not text the model reads
            stack.extend(node.values())
            chars += sum(len(key) for key in node if isinstance(key, str))
    tools = data.get("tools")
    return Needs(
        images=images > 0,
        tools=len(tools) if isinstance(tools, list) else 0,
        input_tokens=math.ceil(chars / CHARS_PER_TOKEN) + images * IMAGE_TOKENS,
    )


def skip_reason(limits: Limits, needs: Needs) -> str | None:
    """Why an endpoint with `limits` cannot take the request (shown as `skipped(…)`)."""
    if needs.images and not limits.images:
        return "images"
    if limits.tools is not None and needs.tools > limits.tools:
        return "tools"
    if limits.context_tokens is not None and needs.input_tokens > limits.context_tokens:
        return "context"
    return None


Step = tuple[Endpoint, str | None]  # an endpoint of the plan, and why it is skipped (or None)


def fit_plan(plan: Sequence[Endpoint], needs: Callable[[], Needs | None]) -> Iterator[Step]:
    """The plan, lazily, with the endpoints that cannot take the request marked as skipped.

    `needs` is asked only when an endpoint with limits that could skip comes up (None: the
    body is not a JSON request, so nothing is skipped); a request the primary serves is not
    looked at. The last endpoint is never skipped when none was tried before it: the
    proxy never refuses without trying.
    """
    tried = False
    for i, endpoint in enumerate(plan):
        reason = None
        if endpoint.limits.skips and (tried or i < len(plan) - 1):
            wanted = needs()
            reason = None if wanted is None else skip_reason(endpoint.limits, wanted)
        tried = tried or reason is None
        yield endpoint, reason


@dataclass(frozen=True, slots=True)
class Clamp:
    """`max_tokens` brought down to a limit, and what that means for thinking."""

    max_tokens: int
    budget: int | None = None  # the thinking budget it now needs, or None: unchanged
    thinking_off: bool = False


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def clamp_output(max_tokens: object, thinking: object, limit: int | None) -> Clamp | None:
    """The clamp a request's `max_tokens` needs under `limit` (None: none needed).

    A thinking budget must stay below `max_tokens`: one that would not is halved to half
    the limit, and where even that is below the API's least budget, thinking goes off.
    """
    if limit is None or not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        return None
    if max_tokens <= limit:
        return None
    budget = _budget(thinking)
    if budget is None or budget < limit:
        return Clamp(limit)
    if limit // 2 < MIN_THINKING_BUDGET:
        return Clamp(limit, thinking_off=True)
    return Clamp(limit, budget=limit // 2)


def _budget(thinking: object) -> int | None:
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        return None
    budget = thinking.get("budget_tokens")
    return budget if _whole(budget) else None
