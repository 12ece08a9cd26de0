"""The figures a run leaves behind (test-artifacts/reliability/*.json) for docs/reliability.md."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.reliability.chaos import ChaosRig, percentile
from tests.reliability.load import RoundResult

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reliability"


def save_figures(name: str, figures: dict[str, Any]) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.json"
    stamped = {"recorded": time.strftime("%Y-%m-%d %H:%M:%S"), **figures}
    path.write_text(json.dumps(stamped, indent=2, sort_keys=True) + "\n")
    return path


def chaos_figures(result: RoundResult, rig: ChaosRig) -> dict[str, Any]:
    latencies = [o.latency for o in result.outcomes]
    verdicts = Counter(
        "violation" if o.verdict.startswith("VIOLATION") else o.verdict for o in result.outcomes
    )
    return {
        "streams": len(result.outcomes),
        "seconds": round(result.seconds, 2),
        "faults_injected": dict(rig.faults()),
        "verdicts": dict(verdicts),
        "answered_by": dict(Counter(o.endpoint or "-" for o in result.outcomes)),
        "latency_p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "rss_base_mib": round(result.rss_base, 1),
        "rss_after_mib": round(result.rss_after, 1),
        "peak_rss_mib": round(result.peak_rss, 1),
        "python_blocks_base": result.blocks_base,
        "python_blocks_after": result.blocks_after,
        "peak_fds": result.peak_fds,
        "left_connections": result.left_connections,
        "left_in_flight": result.left_in_flight,
        "left_upstream_acquired": result.left_upstream_acquired,
    }
