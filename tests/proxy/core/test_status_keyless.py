"""An endpoint that needs a key and has none is skipped by every request: not "ready"."""

from __future__ import annotations

from proxy.core.config import Config, Endpoint
from proxy.core.status import endpoint_words, snapshot


def three() -> Config:
    names = ("anthropic", "openrouter", "spare")
    return Config(endpoints=tuple(Endpoint(name=n, base_url=f"https://{n}.example") for n in names))


def test_a_keyless_endpoint_is_no_key_and_never_serves() -> None:
    snap = snapshot(three(), {}, 0.0, "http://127.0.0.1:8765", keyless=frozenset({"anthropic"}))
    rows = {row.name: row for row in snap.endpoints}
    assert rows["anthropic"].state == "no_key"
    assert endpoint_words(rows["anthropic"]) == "no key"
    assert (snap.overall, snap.serving) == ("degraded", "openrouter")
    assert snap.reason == "via openrouter — anthropic no key"
    assert snap.to_json()["endpoints"][0]["state"] == "no_key"


def test_a_disabled_keyless_endpoint_stays_disabled() -> None:
    off = Endpoint(name="off", base_url="https://off.example", enabled=False)
    config = Config(endpoints=(off, *three().endpoints))
    snap = snapshot(config, {}, 0.0, "http://127.0.0.1:8765", keyless=frozenset({"off"}))
    assert snap.endpoints[0].state == "disabled"
