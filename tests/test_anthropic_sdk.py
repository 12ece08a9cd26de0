"""The official `anthropic` SDK, pointed at `ccf serve`, while the primary answers 529."""

from __future__ import annotations

from pathlib import Path

import anthropic
import pytest

from tests.fakes import stream_events
from tests.serve import ccf_serve

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path, threaded_fakes):
    primary, backup = threaded_fakes.start("primary"), threaded_fakes.start("backup")
    primary.status(529)
    config = tmp_path / "config.yaml"
    config.write_text(
        "endpoints:\n"
        f"  - {{name: primary, base_url: '{primary.url}'}}\n"
        f"  - {{name: backup, base_url: '{backup.url}', models: {{'claude-*': backup-model}}}}\n"
    )
    with ccf_serve(config) as url:
        client = anthropic.Anthropic(base_url=url, api_key="sk-ant-client", max_retries=0)
        yield client, primary, backup
        client.close()


def test_non_streamed_message_is_served_by_the_fallback(served) -> None:
    client, primary, backup = served
    raw = client.messages.with_raw_response.create(
        model="claude-sonnet-5-5", max_tokens=64, messages=[{"role": "user", "content": "Hello"}]
    )
    message = raw.parse()
    assert message.content[0].text == "Hello from backup"
    assert raw.headers["x-ccf-attempts"] == "primary=529, backup=200"
    sent = primary.received[0].headers
    assert "sk-ant-client" in sent.get("x-api-key", "") + sent.get("authorization", "")
    assert backup.received[0].json["model"] == "backup-model"


def test_streamed_message_is_served_by_the_fallback(served) -> None:
    client, primary, backup = served
    backup.stream(stream_events(["Streamed ", "from ", "backup"]))
    with client.messages.stream(
        model="claude-sonnet-5-5", max_tokens=64, messages=[{"role": "user", "content": "Hello"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Streamed from backup"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 3
    assert primary.received[0].json["stream"] is True
