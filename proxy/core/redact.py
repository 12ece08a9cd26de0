"""One redactor for every exit: /health, /metrics, the activity view, logs, error bodies.

It masks, in any text:
- the values it was told (the configured keys, the access and admin tokens) for good;
- the credentials clients sent recently (`learn`), a bounded number of them, since an
  upstream may echo a client's key into an error that other clients then read;
- credential headers in any spelling (`x-api-key: v`, `'authorization': 'Bearer v'`,
  `x-ccf-token=v`) and bearer tokens;
- key-shaped strings (`sk-ant-…`, `sk-or-…`, `sk-…`, `AIza…`, JWTs, long random tokens),
  so a key nobody told it about is masked too when an upstream echoes it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter strings would mask ordinary words
LEARNED_MAX = 256  # client credentials remembered; a flood of made-up keys evicts the oldest
CREDENTIAL_HEADERS = frozenset({"x-api-key", "authorization", "x-ccf-token", "proxy-authorization"})

_HEADER_RE = re.compile(
    r"""(?P<name>x-api-key|authorization|x-ccf-token|proxy-authorization|api[-_]key)"""
    r"""(?P<sep>["']?\s*[:=]\s*["']?)"""
    r"""(?P<scheme>(?:bearer|basic)\s+)?"""
    r"""(?P<value>[^\s"',;}\]]+)""",
    re.IGNORECASE,
)
_BEARER_RE = re.compile(r"\b(?P<scheme>bearer\s+)(?P<value>[A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE)
_KEY_SHAPES = [
    r"\bsk-[A-Za-z0-9_-]{12,}",  # Anthropic (sk-ant-…), OpenRouter (sk-or-…), OpenAI (sk-…)
    r"\b(?:gsk|xai|ghp|gho|ghs|github_pat|pplx|fw)[-_][A-Za-z0-9_-]{16,}",
    r"\bAIza[0-9A-Za-z_-]{30,}",  # Google
    r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # a JWT
    # a long random token: upper and lower case letters and digits, 32 characters or more
    r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[0-9])"
    r"[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])",
]
_SHAPES_RE = re.compile("|".join(f"(?:{shape})" for shape in _KEY_SHAPES))


def credentials_in(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The secret values among a request's headers (a bearer value without its scheme)."""
    found = []
    for name, value in headers:
        if name.lower() in CREDENTIAL_HEADERS:
            scheme, _, rest = value.strip().partition(" ")
            found.append(rest.strip() if scheme.lower() in ("bearer", "basic") else value.strip())
    return [value for value in found if len(value) >= MIN_SECRET_LENGTH]


class Redactor:
    """Masks secrets in text. `redact` reads one tuple that `add` and `learn` replace whole,
    so it may run on another thread than the one adding (the log's handlers do)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._known: frozenset[str] = frozenset()
        self._learned: OrderedDict[str, None] = OrderedDict()
        self._ordered: tuple[str, ...] = ()
        for secret in secrets:
            self.add(secret)

    @property
    def secrets(self) -> frozenset[str]:
        """The values told with `add` (kept across a second logging setup)."""
        return self._known

    def add(self, secret: str) -> None:
        """Mask `secret` from now on, for good."""
        if len(secret) >= MIN_SECRET_LENGTH and secret not in self._known:
            self._known = self._known | {secret}
            self._reorder()

    def learn(self, credentials: Sequence[str]) -> None:
        """Mask these client credentials too, while they are among the most recent."""
        changed = False
        for secret in credentials:
            if secret in self._learned:
                self._learned.move_to_end(secret)
            elif len(secret) >= MIN_SECRET_LENGTH and secret not in self._known:
                self._learned[secret] = None
                changed = True
                while len(self._learned) > LEARNED_MAX:
                    self._learned.popitem(last=False)
        if changed:
            self._reorder()

    def _reorder(self) -> None:
        # longest first, so a secret that contains another is masked whole
        self._ordered = tuple(sorted({*self._known, *self._learned}, key=len, reverse=True))

    def redact(self, text: str) -> str:
        """`text` with every secret masked."""
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _HEADER_RE.sub(_mask_header, text)
        text = _BEARER_RE.sub(lambda m: f"{m['scheme']}{MASK}", text)
        return _SHAPES_RE.sub(MASK, text)

    def redact_bytes(self, data: bytes) -> bytes:
        """`data` (an upstream's error body) masked; bytes that are not UTF-8 are kept."""
        text = data.decode("utf-8", errors="surrogateescape")
        redacted = self.redact(text)
        return data if redacted == text else redacted.encode("utf-8", errors="surrogateescape")

    def redact_json(self, value: Any) -> Any:
        """A JSON-like value with every string in it masked (keys too)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(k)): self.redact_json(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_json(item) for item in value]
        return value


def _mask_header(match: re.Match[str]) -> str:
    return f"{match['name']}{match['sep']}{match['scheme'] or ''}{MASK}"
