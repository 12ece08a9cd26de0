"""Turn per-round samples into the result table (medians across rounds) and print it."""

from __future__ import annotations

import statistics
from typing import Any

Rounds = list[dict[str, dict[str, dict[str, Any]]]]
Row = dict[str, Any]
TARGETS = ("direct", "reference", "proxy")
DISTURBED = 0.20  # cores taken by other programs that mark a sample as disturbed


def _median(rounds: Rounds, scenario: str, key: str) -> dict[str, float]:
    return {t: statistics.median(r[scenario][t][key] for r in rounds) for t in TARGETS}


def _total(rounds: Rounds, scenarios: tuple[str, ...], key: str) -> dict[str, int]:
    return {t: sum(r[s][t][key] for r in rounds for s in scenarios) for t in TARGETS}


def _cpu_us(rounds: Rounds, scenario: str) -> dict[str, float]:
    """Median over rounds of the server's CPU microseconds per item (request or event)."""
    return {
        t: statistics.median(
            1e6 * r[scenario][t]["server_cpu_s"] / max(1, r[scenario][t]["n"]) for r in rounds
        )
        for t in TARGETS
    }


def _row(label: str, values: dict[str, Any], measure: str, target: str, ok: bool | None) -> Row:
    return {"label": label, **values, "measure": measure, "target": target, "pass": ok}


def _nonstream(rounds: Rounds) -> list[Row]:
    lat = _median(rounds, "nonstream_1", "p50_ms")
    d, rd = lat["proxy"] - lat["direct"], lat["reference"] - lat["direct"]
    rps = _median(rounds, "nonstream_50", "rps")
    ratio = rps["proxy"] / rps["reference"]
    cpu = _cpu_us(rounds, "nonstream_50")
    errs = _total(rounds, ("nonstream_1", "nonstream_50"), "errors")
    return [
        _row("non-stream, 1 client: p50 latency (ms)", lat,
             f"proxy-direct {d:.3f} ms (reference-direct {rd:.3f})", "<= 1.0 ms", d <= 1.0),
        _row("non-stream, 50 clients: throughput (req/s)", rps,
             f"proxy/reference {ratio:.2f}", ">= 0.90", ratio >= 0.90),
        _row("non-stream, 50 clients: server CPU per request (us)", cpu,
             f"proxy/reference {cpu['proxy'] / cpu['reference']:.2f}", "info", None),
        _row("non-stream: errors, all runs", errs, f"proxy {errs['proxy']}", "0",
             errs["proxy"] == 0),
    ]  # fmt: skip


def _streams(rounds: Rounds) -> list[Row]:
    lat = _median(rounds, "stream_1", "p50_ms")
    d, rd = lat["proxy"] - lat["direct"], lat["reference"] - lat["direct"]
    alone = _total(rounds, ("stream_1",), "deltas_alone")
    sent = _total(rounds, ("stream_1",), "expected")
    errs1 = _total(rounds, ("stream_1",), "errors")
    separate = {t: f"{alone[t]}/{sent[t]}" for t in TARGETS}
    # A delta that shares a read with another was either sent together with it (batching by
    # the server) or waited for a late client (a busy machine); the direct target shows how
    # much of the latter there was, since there is no server in between to batch.
    coalesced = {t: sent[t] - alone[t] for t in TARGETS}
    batching_ok = errs1["proxy"] == 0 and (
        coalesced["proxy"] <= coalesced["direct"] + sent["proxy"] // 100
    )
    errs = _total(rounds, ("stream_200",), "errors")
    eps = _median(rounds, "stream_200", "events_per_s")
    lat200 = _median(rounds, "stream_200", "p50_ms")
    cpu = _cpu_us(rounds, "stream_200")
    return [
        _row("1 stream x100 @5 ms: per-event p50 (ms)", lat,
             f"proxy-direct {d:.3f} ms (reference-direct {rd:.3f})", "<= 0.5 ms", d <= 0.5),
        _row("1 stream: deltas that arrived in a read of their own", separate,
             f"coalesced: proxy {coalesced['proxy']}, direct {coalesced['direct']}",
             "all (or no more than direct +1%)", batching_ok),
        _row("200 streams: errors, all runs", errs, f"proxy {errs['proxy']}", "0",
             errs["proxy"] == 0),
        _row("200 streams: throughput (events/s)", eps,
             f"proxy/reference {eps['proxy'] / eps['reference']:.2f}", ">= 0.90",
             eps["proxy"] / eps["reference"] >= 0.90),
        _row("200 streams: per-event p50 (ms)", lat200,
             f"proxy/reference {lat200['proxy'] / lat200['reference']:.2f}", "<= 1.20",
             lat200["proxy"] / lat200["reference"] <= 1.20),
        _row("200 streams: server CPU per event (us)", cpu,
             f"proxy/reference {cpu['proxy'] / cpu['reference']:.2f}", "info", None),
    ]  # fmt: skip


def rows(rounds: Rounds, rss: dict[str, float | None]) -> list[Row]:
    """The table: one dict per row with direct/reference/proxy, the comparison, PASS/FAIL/info."""
    peak = rss.get("proxy")
    samples = [s for r in rounds for scenario in r.values() for s in scenario.values()]
    disturbed = sum(s["cpu"]["foreign_cores"] >= DISTURBED for s in samples)
    redone = sum(s["attempts"] - 1 for s in samples)
    return [
        *_nonstream(rounds),
        *_streams(rounds),
        _row("peak RSS over the whole run (MB)", {t: rss.get(t) for t in TARGETS},
             f"proxy {peak:.1f} MB" if peak else "proxy unknown", "<= 80 MB",
             peak is not None and peak <= 80),
        _row("samples disturbed by other programs", dict.fromkeys(TARGETS, ""),
             f"{disturbed}/{len(samples)} kept, {redone} redone", "info", None),
    ]  # fmt: skip


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def _verdict(ok: bool | None) -> str:
    return "info" if ok is None else "PASS" if ok else "FAIL <<<"


def render(table: list[Row]) -> str:
    """Fixed-width text table; a FAIL is impossible to miss."""
    head = ["scenario", *TARGETS, "compared", "target", "result"]
    lines = [
        [r["label"], *(_fmt(r[t]) for t in TARGETS), r["measure"], r["target"], _verdict(r["pass"])]
        for r in table
    ]
    widths = [max(len(x[i]) for x in [head, *lines]) for i in range(len(head))]
    fmt = "  ".join(f"{{:{'>' if i in (1, 2, 3) else '<'}{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*ln).rstrip() for ln in [head, ["-" * w for w in widths], *lines]]
    judged = [r for r in table if r["pass"] is not None]
    fails = sum(not r["pass"] for r in judged)
    verdict = f"{len(judged) - fails}/{len(judged)} targets met"
    return "\n".join([*out, "", verdict + (f", {fails} FAILED" if fails else "")])


def markdown(table: list[Row]) -> str:
    """The same table as Markdown, for docs/performance.md."""
    out = ["| scenario | direct | reference | proxy | compared | target | result |",
           "| --- | ---: | ---: | ---: | --- | --- | --- |"]  # fmt: skip
    for r in table:
        verdict = "**FAIL**" if r["pass"] is False else _verdict(r["pass"])
        cells = [r["label"], *(_fmt(r[t]) for t in TARGETS), r["measure"], r["target"], verdict]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.bench.report RESULTS.json``: the table again, plain and as Markdown."""
    import json
    import sys
    from pathlib import Path

    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "test-artifacts/bench/results.json")
    data = json.loads(path.read_text())
    table = rows(data["rounds"], data["peak_rss_mb"])
    print(render(table), "", markdown(table), sep="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
