"""`python -m bench.report [results.json]`: the figures as Markdown tables (for docs/operations.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def markdown(r: dict[str, Any]) -> str:
    """Markdown tables of one `python -m bench` run."""
    m = r["machine"]
    out = [
        f"Run of {r['when']} ({'quick' if r['quick'] else 'full'}, {r.get('elapsed_s', '?')} s): "
        f"{m['cpus']} CPUs, Python {m['python']}, load average at start {m['load_average_at_start'][0]} "
        "(the machine was shared with other work, so wall-clock figures include waiting for a CPU).",
        "",
    ]
    out += ["| target | measured | |", "|---|---|---|"]
    for t in r["targets"]:
        state = "not measured" if t["met"] is None else ("met" if t["met"] else "**missed**")
        value = (
            ""
            if t["value"] is None
            else f"{t['value']:,} {t['unit']}"
            if isinstance(t["value"], int)
            else f"{t['value']} {t['unit']}"
        )
        out.append(f"| {t['target']} | {value} | {state} |")
    if "ack" in r:
        a = r["ack"]
        out += [
            "",
            f"Acknowledgement latency through `govbot serve` ({a['database'].split('+')[0]}) and a bare "
            "Bolt app that only acks, same requests, same machine (ms):",
            "",
            "| clients | request | govbot p50 | govbot p99 | bare p50 | bare p99 | p99 ratio |",
            "|---|---|---|---|---|---|---|",
        ]
        for level, row in a["levels"].items():
            for kind in ("command", "click"):
                g, b = row[kind]["govbot"], row[kind]["bare_bolt"]
                out.append(
                    f"| {level} | {kind} | {g['p50_ms']} | {g['p99_ms']} | {b['p50_ms']} | {b['p99_ms']} | "
                    f"{row[kind]['p99_ratio']} |"
                )
        out += [
            "",
            f"All {a['clicks_sent']} clicks were answered 200 and {a['clicks_decided']} decisions recorded. "
            f"`govbot serve` resident memory: {a['rss_mb_before']} MB at start, {a['rss_mb_after_load']} MB "
            "after the load.",
        ]
    if r.get("facts"):
        out += [
            "",
            "Portfolio and digest facts (median of several runs; heap = Python allocations while "
            "computing, tracemalloc):",
            "",
            "| backend | proposals | portfolio ms | digest ms | portfolio heap MB | prompt chars | seeded in s |",
            "|---|---|---|---|---|---|---|",
        ]
        for backend, sizes in r["facts"].items():
            for size, f in sizes.items():
                out.append(
                    f"| {backend} | {int(size):,} | {f['portfolio_ms']} | {f['digest_ms']} | "
                    f"{f['portfolio_heap_peak_mb']} | {f['prompt_chars']:,} | {f['seed_s']} |"
                )
        for backend, sizes in r["facts"].items():
            keys = sorted(sizes, key=int)
            lo, hi = sizes[keys[0]], sizes[keys[-1]]
            out.append("")
            out.append(
                f"Growth on {backend} from {int(keys[0]):,} to {int(keys[-1]):,} proposals "
                f"({int(keys[-1]) // int(keys[0])}x): portfolio time x{hi['portfolio_ms'] / lo['portfolio_ms']:.1f}"
                f", digest time x{hi['digest_ms'] / lo['digest_ms']:.1f}, heap peak "
                f"x{hi['portfolio_heap_peak_mb'] / lo['portfolio_heap_peak_mb']:.2f}, prompt "
                f"x{hi['prompt_chars'] / lo['prompt_chars']:.3f}."
            )
    if "classifier" in r:
        c = r["classifier"]
        out += [
            "",
            f"Classifier: {c['per_second']:,} proposals/s ({c['with_validation_per_second']:,}/s including "
            f"validation), {c['n']:,} varied proposals.",
        ]
    for backend, i in (r.get("import") or {}).items():
        out.append(
            f"`govbot import` on {backend}: {i['n']:,} proposals in {i['seconds']} s wall, {i['cpu_s']} s "
            f"CPU ({i['per_second']}/s): {i['summary']}."
        )
    return "\n".join(out)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results.json"
    print(markdown(json.loads(path.read_text())))
