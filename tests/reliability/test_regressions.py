"""One test for each bug the reliability suite found, through the real proxy on real sockets."""

from __future__ import annotations

import json

from tests.fakes import stream_events

REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 5,
    "stream": True,
    "messages": [{"role": "user", "content": "hi"}],
}


def events_of(body: bytes) -> list[tuple[str, str]]:
    """The events a strict SSE client dispatches: (event, data) per blank-line-ended block."""
    out = []
    for block in body.split(b"\n\n")[:-1]:
        fields = dict(line.split(": ", 1) for line in block.decode().split("\n"))
        out.append((fields["event"], fields["data"]))
    return out


async def test_a_stream_cut_inside_an_event_ends_with_a_clean_error_frame(
    upstreams, make_proxy
) -> None:
    """Found by chaos (truncated SSE after commit): the error frame was glued onto the half
    event, so the client saw one garbled event and no error."""
    a = await upstreams("a")
    events = stream_events(["Hel", "lo"])
    half = events[4][: len(events[4]) // 2]
    a.stream([*events[:4], half], then="end")
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    async with await proxy.post(json=REQUEST) as response:
        body = await response.read()
    sent = b"".join(events[:4])
    assert body.startswith(sent)
    assert body[len(sent) :].startswith(b"event: error\n")
    dispatched = events_of(body)
    assert [name for name, _ in dispatched][-1] == "error"
    for _, data in dispatched:
        json.loads(data)  # every event the client sees is whole


async def test_a_stream_cut_inside_an_event_by_a_reset_ends_cleanly(upstreams, make_proxy) -> None:
    a = await upstreams("a")
    events = stream_events(["Hel", "lo"])
    a.stream([*events[:4], events[4][:7]], then="reset")
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    async with await proxy.post(json=REQUEST) as response:
        body = await response.read()
    assert [name for name, _ in events_of(body)][-1] == "error"
    assert body.endswith(b"\n\n")


async def test_events_split_across_chunks_still_arrive_byte_exact(upstreams, make_proxy) -> None:
    a = await upstreams("a")
    whole = b"".join(stream_events(["Hel", "lo", " there"]))
    a.stream([whole[i : i + 7] for i in range(0, len(whole), 7)], delay=0.001)
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    async with await proxy.post(json=REQUEST) as response:
        assert await response.read() == whole
