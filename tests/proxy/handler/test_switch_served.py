"""A ten-turn tool loop with thinking on, through `ccf serve`, that moves to the fallback at
turn 3 and back to the primary at turn 7: with an Anthropic-format and with an
OpenAI-format fallback. The fake providers refuse what the real ones refuse."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anthropic
import pytest

from tests.fakes import FakesInThread
from tests.serve import ccf_serve
from tests.strict_fakes import TURNS, Rules, anthropic_behaviour, openai_behaviour

pytestmark = pytest.mark.slow

TOOLS = [{"name": "Read", "description": "Read a file", "input_schema": {"type": "object"}}]


def run_loop(client: anthropic.Anthropic, primary: Rules) -> list[str]:
    """Claude Code's loop: send, keep the answer's blocks as they came, answer each tool
    call; the primary is down for turns 3 to 6. The endpoint of each turn, in order."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Read the files, then answer."}]
    served = []
    for turn in range(1, TURNS + 1):
        primary.down = 3 <= turn <= 6
        with client.messages.stream(
            model="claude-sonnet-4-5",
            max_tokens=32000,
            thinking={"type": "enabled", "budget_tokens": 4000},
            tools=TOOLS,  # type: ignore[arg-type]
            messages=messages,  # type: ignore[arg-type]
        ) as stream:
            served.append(stream.response.headers["x-ccf-endpoint"])
            final = stream.get_final_message()
        blocks = [block.model_dump(exclude_none=True) for block in final.content]
        messages.append({"role": "assistant", "content": blocks})
        if final.stop_reason != "tool_use":
            assert turn == TURNS
            break
        calls = [b for b in blocks if b["type"] == "tool_use"]
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": c["id"], "content": f"file {turn}"}
                    for c in calls
                ],
            }
        )
    return served


def config_text(primary: str, fallback: str, fallback_format: str) -> str:
    base = f"{fallback}/v1" if fallback_format == "openai" else fallback
    return f"""endpoints:
  - {{name: primary, base_url: "{primary}"}}
  - name: fallback
    base_url: "{base}"
    format: {fallback_format}
    auth: bearer
    key: env:FB_KEY
    models: {{"*": their-model}}
    limits: {{max_output_tokens: 8192, images: false}}
failover: {{cooldown_seconds: 0, max_cooldown_seconds: 0}}
"""


@pytest.mark.parametrize("fallback_format", ["anthropic", "openai"])
def test_a_tool_loop_with_thinking_survives_a_switch_and_the_way_back(
    tmp_path: Path, threaded_fakes: FakesInThread, fallback_format: str
) -> None:
    primary_fake, fallback_fake = threaded_fakes.start("primary"), threaded_fakes.start("fallback")
    primary = Rules("primary", max_output_tokens=64000)
    fallback = Rules("fallback", max_output_tokens=8192, images=False)
    primary_fake.behaviour = anthropic_behaviour(primary)
    behaviour = openai_behaviour if fallback_format == "openai" else anthropic_behaviour
    fallback_fake.behaviour = behaviour(fallback)
    config = tmp_path / "config.yaml"
    config.write_text(config_text(primary_fake.url, fallback_fake.url, fallback_format))
    env = {**os.environ, "FB_KEY": "fb-key"}
    with ccf_serve(config, env=env) as url:
        client = anthropic.Anthropic(base_url=url, api_key="sk-ant-client", max_retries=0)
        try:
            served = run_loop(client, primary)
        finally:
            client.close()
    assert served == ["primary"] * 2 + ["fallback"] * 4 + ["primary"] * 4
    assert primary.refused == []  # no request the real API would refuse, in either direction
    assert fallback.refused == []
    assert fallback.served == [3, 4, 5, 6]
    assert primary.served == [1, 2, 7, 8, 9, 10]
