"""Every provider preset carries that provider's limits, in keys the config parser takes."""

from __future__ import annotations

import re
from pathlib import Path

from proxy.core.config import LIMIT_KEYS

PRESETS = Path(__file__).parents[2] / "ui" / "static" / "presets.js"


def test_every_preset_has_limits_the_parser_knows() -> None:
    text = PRESETS.read_text()
    presets = [chunk.partition('"')[::2] for chunk in text.split('{ id: "')[1:]]
    assert len(presets) >= 15
    for name, body in presets:
        limits = re.search(r"limits: \{([^}]*)\}", body)
        assert limits, f"preset {name} has no limits"
        keys = re.findall(r"(\w+):", limits.group(1))
        assert keys, f"preset {name} has empty limits"
        assert set(keys) <= set(LIMIT_KEYS), name
