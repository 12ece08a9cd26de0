"""Translation cost: a stream from an OpenAI-format provider vs. a native Anthropic one.

Run from the repository root::

    .venv/bin/python -m tests.bench.translation [--rounds 5] [--quick]

Starts two fake upstreams (``tests.bench.upstream``: Anthropic SSE with ``--text-stamp``, and
``--format openai``, Chat Completions chunks) and two ``ccf serve`` processes, one per fake,
with the same config except the endpoint: ``native`` (``{name: native, base_url: <fake>}``)
and ``translated`` (``{name: gpt, base_url: <fake>/v1, format: openai, auth: client}``).
Two proxies rather than one with ``routing.pinned``, because the pin is per config, not per
request, and each process's CPU then belongs to one kind of stream. Both fakes send the same
text, 100 deltas 5 ms apart, each delta's text starting with ``t=<time.time_ns()>;``, which the
client reads back from the Anthropic ``text_delta`` either way.

Interleaved rounds (target order alternating), medians reported: 1 stream (5 in a row per
sample) and 50 concurrent streams; per-event latency p50/p99, events/s, the proxy's CPU per
event (``/proc/PID/stat``), and every stream checked to be complete and well-formed. Then an
in-process micro-measurement (timeit, best of 5): ``StreamTranslator.feed`` on one chunk vs
the native relay's ``SseParser.feed(frame, AFTER_COMMIT)``, and the request translation.

Prints the table and writes ``test-artifacts/bench/translation.json``. Exits 0 when the
measurement ran; 2 when something could not start or a stream came back wrong.
docs/performance.md, "Translation cost", has a run and how to read it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.bench import loadgen, payload, procs, run

N_EVENTS = run.N_EVENTS
INTERVAL_MS = run.INTERVAL_MS
CONCURRENT = 50
SINGLE_IN_A_ROW = 5
TARGETS = ("native", "translated")
ENDPOINT_NAMES = {"native": "native", "translated": "gpt"}
_STAMP = re.compile(rb"t=(\d+);")
_STAMP_TEXT = re.compile(r"t=\d+;")
_ROUND_TIMEOUT = 120.0

Sample = dict[str, Any]


# --- the stream client -----------------------------------------------------------------------


@dataclass
class Streams:
    """What one batch of streams saw: latencies, and every frame for checking afterwards."""

    latencies_ns: list[int] = field(default_factory=list)
    frames: list[list[bytes]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def _one(
    session: aiohttp.ClientSession, url: str, body: bytes, endpoint: str, out: Streams
) -> None:
    frames: list[bytes] = []
    async with session.post(url + "/v1/messages", data=body, headers=loadgen.HEADERS) as resp:
        if resp.status != 200:
            out.errors.append(f"HTTP {resp.status}: {(await resp.read())[:200]!r}")
            return
        served_by = resp.headers.get("x-ccf-endpoint")
        if served_by != endpoint:
            out.errors.append(f"served by endpoint {served_by!r}, expected {endpoint!r}")
        buf = b""
        async for chunk in resp.content.iter_any():
            now = time.time_ns()
            buf += chunk
            *whole, buf = buf.split(b"\n\n")
            for frame in whole:
                if frame.startswith(b"event: content_block_delta"):
                    sent = _STAMP.search(frame)
                    if sent is not None:
                        out.latencies_ns.append(now - int(sent.group(1)))
            frames += whole
        if buf.strip():
            frames.append(buf)
    out.frames.append(frames)


async def _batch(url: str, body: bytes, endpoint: str, n_streams: int) -> Streams:
    out = Streams()
    timeout = aiohttp.ClientTimeout(total=_ROUND_TIMEOUT, sock_read=15)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=timeout
    ) as session:
        t0 = time.perf_counter()
        results = await asyncio.gather(
            *(_one(session, url, body, endpoint, out) for _ in range(n_streams)),
            return_exceptions=True,
        )
        out.seconds = time.perf_counter() - t0
    out.errors += [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    return out


def check_stream(frames: list[bytes], n_events: int = N_EVENTS) -> str | None:
    """None if ``frames`` are exactly the Anthropic stream both fakes stand for: message_start,
    one text block of ``n_events`` deltas whose text reassembles, block stop, message_delta
    (end_turn), message_stop; else what is wrong."""
    expect = [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * n_events,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    events: list[tuple[str, dict[str, Any]]] = []
    for raw in frames:
        lines = raw.decode().split("\n")
        if (
            len(lines) != 2
            or not lines[0].startswith("event: ")
            or not lines[1].startswith("data: ")
        ):
            return f"malformed frame {raw[:120]!r}"
        name, data = lines[0][7:], json.loads(lines[1][6:])
        if not isinstance(data, dict) or data.get("type") != name:
            return f"frame type does not match its event: {raw[:120]!r}"
        events.append((name, data))
    names = [n for n, _ in events]
    if names != expect:
        return f"event sequence {_summary(names)}, expected {_summary(expect)}"
    if events[-2][1].get("delta", {}).get("stop_reason") != "end_turn":
        return f"message_delta {events[-2][1]}"
    return _check_text([d for _, d in events[1 : 2 + n_events]])


def _check_text(block: list[dict[str, Any]]) -> str | None:
    """The content_block_start and its deltas: one text block, text as the fakes sent it."""
    if block[0].get("index") != 0 or block[0].get("content_block") != {"type": "text", "text": ""}:
        return f"unexpected content_block_start {block[0]}"
    texts = []
    for i, d in enumerate(block[1:]):
        delta = d.get("delta", {})
        text = delta.get("text", "")
        if d.get("index") != 0 or delta.get("type") != "text_delta":
            return f"delta {i} is not a text_delta of block 0: {d}"
        if not re.fullmatch(rf"t=\d+; word{i} of the answer", text):
            return f"delta {i} text {text!r}"
        texts.append(text)
    got = _STAMP_TEXT.sub("", "".join(texts))
    want = "".join(f" word{i} of the answer" for i in range(len(texts)))
    return None if got == want else "text does not reassemble"


def _summary(names: list[str]) -> str:
    out: list[str] = []
    for n in names:
        if out and out[-1].startswith(n + " x"):
            k = int(out[-1].rsplit("x", 1)[1]) + 1
            out[-1] = f"{n} x{k}"
        elif out and out[-1] == n:
            out[-1] = f"{n} x2"
        else:
            out.append(n)
    return "[" + ", ".join(out) + "]"


def measure_streams(url: str, body: bytes, endpoint: str, n_streams: int, in_a_row: int) -> Sample:
    """``in_a_row`` batches of ``n_streams`` concurrent streams, checked after the fact."""
    lat: list[int] = []
    errors: list[str] = []
    seconds, streams, complete = 0.0, 0, 0
    for _ in range(in_a_row):
        s = asyncio.run(_batch(url, body, endpoint, n_streams))
        lat += s.latencies_ns
        seconds += s.seconds
        streams += n_streams
        errors += s.errors
        for frames in s.frames:
            problem = check_stream(frames)
            if problem is None:
                complete += 1
            else:
                errors.append(f"malformed: {problem}")
    lat.sort()

    def q(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] / 1e6 if lat else float("nan")

    return {
        "p50_ms": q(0.5),
        "p99_ms": q(0.99),
        "n": len(lat),
        "events_per_s": len(lat) / seconds if seconds else 0.0,
        "streams": streams,
        "complete": complete,
        "errors": len(errors),
        "malformed": sum(e.startswith(("malformed", "served by")) for e in errors),
        "error_samples": errors[:3],
        "seconds": seconds,
    }


# --- processes ---------------------------------------------------------------------------


def _start_ccf(
    fleet: procs.Fleet, name: str, endpoint_yaml: str, cpus: set[int] | None, ccf: str
) -> tuple[subprocess.Popen[bytes], str]:
    env = run.ccf_env()
    home = fleet.log_dir / f"ccf-home-{name}"
    for sub in ("config", "data", "state", "cache"):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[f"XDG_{sub.upper()}_HOME"] = str(home / sub)
    cfg = fleet.log_dir / f"ccf-config-{name}.yaml"
    cfg.write_text(f"endpoints:\n  - {endpoint_yaml}\n")
    port = procs.free_port()
    argv = [*run.ccf_command(ccf), "serve", "--config", str(cfg), "--port", str(port)]
    proc = fleet.start(name, argv, cpus=cpus, env=env, cwd=fleet.log_dir)
    url = f"http://127.0.0.1:{port}"
    procs.wait_http_ok(url + "/health", proc, name, fleet)
    return proc, url


def start_targets(fleet: procs.Fleet, layout: run.Layout, ccf: str) -> dict[str, run.Target]:
    common = ["--events", str(N_EVENTS), "--interval-ms", str(INTERVAL_MS)]
    up_n, up_n_url = run._start_bench_server(
        fleet, "upstream-native", "tests.bench.upstream", [*common, "--text-stamp"], layout.upstream
    )
    up_o, up_o_url = run._start_bench_server(
        fleet, "upstream-openai", "tests.bench.upstream", [*common, "--format", "openai"],
        layout.upstream,
    )  # fmt: skip
    native, native_url = _start_ccf(
        fleet, "native", f"{{name: native, base_url: '{up_n_url}', auth: client}}", layout.test, ccf
    )
    gpt_yaml = (
        f"{{name: gpt, base_url: '{up_o_url}/v1', format: openai, auth: client, "
        f"models: {{'{payload.MODEL}': '{payload.OPENAI_MODEL}'}}}}"
    )
    translated, translated_url = _start_ccf(fleet, "translated", gpt_yaml, layout.test, ccf)
    return {
        "upstream_native": run.Target("upstream_native", up_n_url, up_n.pid),
        "upstream_openai": run.Target("upstream_openai", up_o_url, up_o.pid),
        "native": run.Target("native", native_url, native.pid),
        "translated": run.Target("translated", translated_url, translated.pid),
    }


def _check(targets: dict[str, run.Target], body: bytes, stream_body: bytes) -> list[str]:
    problems = []
    for name in TARGETS:
        t = targets[name]
        problems += [f"{name}: {p}" for p in loadgen.check_target(t.url, body, ["x-ccf-endpoint"])]
        s = measure_streams(t.url, stream_body, ENDPOINT_NAMES[name], 1, 1)
        if s["errors"] or s["complete"] != 1:
            problems.append(f"{name}: stream check failed: {s['error_samples']}")
    return problems


# --- the in-process micro-measurement -----------------------------------------------------


def _best_us(fn: Callable[[], object], number: int) -> float:
    """CPU µs per call (process time, GC off as timeit does), best of 5 repeats."""
    runs = timeit.repeat(fn, timer=time.process_time, number=number, repeat=5)
    return min(runs) / number * 1e6


def micro(number: int = 20000) -> dict[str, float]:
    """CPU µs per call, best of 5, of what the proxy does per event and per request."""
    from proxy.core.openai.stream import StreamTranslator
    from proxy.core.sse import AFTER_COMMIT, SseParser
    from proxy.formats import OpenAIFormat
    from proxy.incoming import Incoming

    sent = time.time_ns()
    native_frame = payload.text_delta_frame(7, sent)
    chunk = payload.openai_chunk(7, sent)
    native = SseParser()
    translator = StreamTranslator(payload.MODEL)
    translator.feed(payload.openai_stream_head() + payload.openai_chunk(0, sent))  # block open
    relay = SseParser()
    relay.feed(translator.feed(chunk), AFTER_COMMIT)

    def translated_relay() -> None:
        relay.feed(translator.feed(chunk), AFTER_COMMIT)

    body = payload.request_body(stream=True)

    def request() -> bytes:
        incoming = Incoming("POST", "/v1/messages", "", [], body)
        return OpenAIFormat().body(incoming, incoming.data)

    return {
        "native_sseparser_feed_us": _best_us(
            lambda: native.feed(native_frame, AFTER_COMMIT), number
        ),
        "translator_feed_us": _best_us(lambda: translator.feed(chunk), number),
        "translated_relay_us": _best_us(translated_relay, number),
        "request_translation_us": _best_us(request, max(1, number // 200)),
        "native_chunk_bytes": len(native_frame),
        "openai_chunk_bytes": len(chunk),
        "translated_frame_bytes": len(translator.feed(chunk)),
    }


# --- rounds, table, main ---------------------------------------------------------------------


def schedstat_s(pid: int) -> float:
    """CPU seconds of ``pid``'s live threads from ``/proc/PID/task/*/schedstat`` (ns
    resolution; ``/proc/PID/stat`` counts 10 ms ticks, coarse for 300 events of one stream)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(task.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


def _round(
    targets: dict[str, run.Target], order: list[str], sampler: run.Sampler, quick: bool
) -> dict[str, dict[str, Sample]]:
    stream_body = payload.request_body(stream=True)
    scenarios = {
        "stream_1": (1, 1 if quick else SINGLE_IN_A_ROW),
        f"stream_{CONCURRENT}": (CONCURRENT, 1),
    }
    out: dict[str, dict[str, Sample]] = {}
    sampler.new_round()
    for scenario, (n, in_a_row) in scenarios.items():
        out[scenario] = {}
        for name in order:
            t = targets[name]

            def fn(t: run.Target = t, n: int = n, k: int = in_a_row) -> Sample:
                cpu0 = schedstat_s(t.pid)
                out = measure_streams(t.url, stream_body, ENDPOINT_NAMES[t.name], n, k)
                return out | {"server_schedstat_s": schedstat_s(t.pid) - cpu0}

            s = sampler(name, fn)
            s["cpu_us_per_event"] = 1e6 * s["server_cpu_s"] / max(1, s["n"])
            s["schedstat_us_per_event"] = 1e6 * s["server_schedstat_s"] / max(1, s["n"])
            out[scenario][name] = s
    return out


def rows(rounds: list[dict[str, dict[str, Sample]]], micro_us: dict[str, float]) -> list[dict]:
    def med(scenario: str, key: str) -> dict[str, float]:
        return {t: statistics.median(r[scenario][t][key] for r in rounds) for t in TARGETS}

    out = []
    scenarios = (("stream_1", "1 stream"), (f"stream_{CONCURRENT}", f"{CONCURRENT} streams"))
    for scenario, label in scenarios:
        for key, what, unit in (
            ("p50_ms", "per-event p50", "ms"),
            ("p99_ms", "per-event p99", "ms"),
            ("events_per_s", "events/s", ""),
            ("cpu_us_per_event", "proxy CPU per event, /proc/PID/stat", "us"),
            ("schedstat_us_per_event", "proxy CPU per event, schedstat", "us"),
        ):
            v = med(scenario, key)
            if key.endswith("us_per_event"):
                cmp = f"translated/native {v['translated'] / v['native']:.2f}x"
            elif key == "events_per_s":
                cmp = f"translated/native {v['translated'] / v['native']:.3f}"
            else:
                cmp = f"translated-native {v['translated'] - v['native']:+.3f} ms"
            name = f"{label}: {what}" + (f" ({unit})" if unit else "")
            out.append({"label": name, **v, "compared": cmp})
        errs = {t: sum(r[scenario][t]["errors"] for r in rounds) for t in TARGETS}
        ok = {t: sum(r[scenario][t]["complete"] for r in rounds) for t in TARGETS}
        total = {t: sum(r[scenario][t]["streams"] for r in rounds) for t in TARGETS}
        out.append({
            "label": f"{label}: streams complete and well-formed",
            **{t: f"{ok[t]}/{total[t]}" for t in TARGETS},
            "compared": f"errors: native {errs['native']}, translated {errs['translated']}",
        })  # fmt: skip
    samples = [s for r in rounds for sc in r.values() for s in sc.values()]
    disturbed = sum(s["cpu"]["foreign_cores"] >= run.DISTURBED for s in samples)
    redone = sum(s["attempts"] - 1 for s in samples)
    out.append({
        "label": "samples disturbed by other programs", "native": "", "translated": "",
        "compared": f"{disturbed}/{len(samples)} kept, {redone} redone",
    })  # fmt: skip
    m = micro_us
    out += [
        {"label": "in-process: per event (us), native SseParser.feed vs StreamTranslator.feed",
         "native": m["native_sseparser_feed_us"], "translated": m["translator_feed_us"],
         "compared": f"{m['translator_feed_us'] / m['native_sseparser_feed_us']:.1f}x"},
        {"label": "in-process: per event (us), relay total (translated: feed + SseParser.feed)",
         "native": m["native_sseparser_feed_us"], "translated": m["translated_relay_us"],
         "compared": f"+{m['translated_relay_us'] - m['native_sseparser_feed_us']:.1f} us"},
        {"label": "in-process: request translation, 20 KB body (us per request)",
         "native": 0.0, "translated": m["request_translation_us"],
         "compared": f"{m['request_translation_us'] / N_EVENTS:.1f} us per event at {N_EVENTS}"},
    ]  # fmt: skip
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if v >= 1000 else f"{v:.3f}" if v < 10 else f"{v:.1f}"
    return str(v)


def render(table: list[dict]) -> str:
    lines = ["| scenario | native | translated | compared |", "| --- | ---: | ---: | --- |"]
    lines += [
        f"| {r['label']} | {_fmt(r['native'])} | {_fmt(r['translated'])} | {r['compared']} |"
        for r in table
    ]
    return "\n".join(lines)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.translation",
        description="Per-event cost of a translated (OpenAI-format) stream vs a native one.",
    )
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians reported")
    p.add_argument("--quick", action="store_true", help="1 round, short micro: checks machinery")
    p.add_argument("--ccf", default=run.DEFAULT_CCF, help="ccf program (default: this checkout's)")
    p.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    p.add_argument(
        "--out", type=Path, default=run.ROOT / "test-artifacts" / "bench", help="translation.json"
    )
    return p.parse_args(argv)


def _measure(
    fleet: procs.Fleet, args: argparse.Namespace, layout: run.Layout
) -> tuple[list[dict[str, dict[str, Sample]]], dict[str, float | None]]:
    targets = start_targets(fleet, layout, args.ccf)
    problems = _check(
        targets, payload.request_body(stream=False), payload.request_body(stream=True)
    )
    if problems:
        raise procs.StartError("; ".join(problems))
    print("targets: " + ", ".join(f"{t.name} {t.url}" for t in targets.values()), flush=True)
    sampler = run.Sampler(targets)
    rounds_n = 1 if args.quick else args.rounds
    if not args.quick:  # warm-up: 50 streams through each
        for name in TARGETS:
            measure_streams(targets[name].url, payload.request_body(stream=True),
                            ENDPOINT_NAMES[name], CONCURRENT, 1)  # fmt: skip
    rounds = []
    started = time.monotonic()
    for r in range(rounds_n):
        order = list(TARGETS if r % 2 == 0 else reversed(TARGETS))
        rounds.append(_round(targets, order, sampler, args.quick))
        print(f"round {r + 1}/{rounds_n} done ({time.monotonic() - started:.0f} s)", flush=True)
    return rounds, {n: procs.peak_rss_mb(t.pid) for n, t in targets.items()}


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    layout = run.Layout(None, None) if args.no_pin else run.Layout(*procs.cpu_layout())
    if layout.test:
        os.sched_setaffinity(0, layout.test)  # this process is the stream client
    work: Path = args.out
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        with procs.Fleet(work / "translation") as fleet:
            fleet.log_dir.mkdir(parents=True, exist_ok=True)
            rounds, rss = _measure(fleet, args, layout)
    except procs.StartError as exc:
        print(f"benchmark not run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; every process the benchmark started is stopped", file=sys.stderr)
        return 130
    micro_us = micro(2000 if args.quick else 20000)  # the fleet is stopped: a quiet process
    table = rows(rounds, micro_us)
    malformed = sum(s["malformed"] for r in rounds for sc in r.values() for s in sc.values())
    result = {
        "command": " ".join(
            ["python -m tests.bench.translation", *(sys.argv[1:] if argv is None else argv)]
        ),
        "machine": run.machine(),
        "source": run.source(),
        "plan": {
            "rounds": len(rounds),
            "events": N_EVENTS,
            "interval_ms": INTERVAL_MS,
            "concurrent_streams": CONCURRENT,
            "single_streams_in_a_row": 1 if args.quick else SINGLE_IN_A_ROW,
            "cpus": {"upstream": sorted(layout.upstream or []), "test": sorted(layout.test or [])},
        },
        "seconds": round(time.monotonic() - started, 1),
        "rows": table,
        "micro_us": micro_us,
        "peak_rss_mb": rss,
        "rounds": rounds,
    }
    (work / "translation.json").write_text(json.dumps(result, indent=2) + "\n")
    print("\n" + render(table))
    print(f"\nresults: {work / 'translation.json'} ({result['seconds']} s)")
    if malformed:
        print(
            f"{malformed} streams came back wrong (see error_samples in the JSON)", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
