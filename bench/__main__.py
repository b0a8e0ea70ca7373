"""`make bench` = `python -m bench`: run every benchmark, print a table, write bench/results.json.

    python -m bench            # full sizes (1k/10k/100k proposals, import of 10k): ~10-15 min on 2 cores
    python -m bench --quick    # smaller sizes for a smoke run (< 2 min)
    python -m bench --only facts,classifier
    python -m bench --only judgement      # how well the classifier reads the labelled proposals (seconds)
    python -m bench --only teams          # Teams vs Slack: fifty people typing help at once (~1 min)

Figures only: nothing here passes or fails on time. Each figure is compared with its
target (met / missed) so a regression is visible. PostgreSQL figures need
`--pg-url` (default: GOVBOT_BENCH_DATABASE_URL, else the local test server); the
benchmarks use a dedicated schema and drop it afterwards. On a shared machine the
wall-clock figures include waiting for the CPU; the import also reports CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.databases import PgSchema, _sqlite

HERE = Path(__file__).resolve().parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECTIONS = (
    "classifier",
    "facts",
    "ack",
    "import",
    "audit",
    "judgement",
    "intake",
    "policy",
    "lanes",
    "similarity",
    "teams",
    "value",
    "assess",
)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _pg_available(url: str) -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        from sqlalchemy import text

        from store.db import make_engine

        engine = make_engine(url, pool_size=1, max_overflow=0, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench import ack, audit, classify_import, facts, judgement, lanes, similarity
    from bench import policy as policy_bench

    quick = args.quick
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    pg_problem = _pg_available(args.pg_url)
    if pg_problem:
        log(f"PostgreSQL unavailable ({pg_problem}); its figures are left out")
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "postgresql": pg_problem is None,
    }
    with tempfile.TemporaryDirectory(prefix="govbot-bench-") as tmp:
        work = Path(tmp)
        if "classifier" in only:
            log("classifier ...")
            results["classifier"] = classify_import.classifier(2000 if quick else 20000)
        if "judgement" in only:
            log("judgement on the labelled proposals ...")
            results["judgement"] = judgement.run()
        if "facts" in only:
            sizes = [1000, 5000] if quick else [1000, 10_000, 100_000]
            results["facts"] = {}
            for backend in ("sqlite", "postgresql"):
                if backend == "postgresql" and pg_problem:
                    continue
                log(f"facts on {backend} ...")
                results["facts"][backend] = facts.run_backend(
                    backend, sizes, work, args.pg_url, runs=3 if quick else 5, log=log
                )
        if "ack" in only:
            log("ack latency ...")
            if pg_problem:
                results["ack"] = ack.run(_sqlite(work, "ack.sqlite3"), work, quick, log=log)
            else:
                with PgSchema(args.pg_url) as url:
                    results["ack"] = ack.run(url, work, quick, log=log)
        if "import" in only:
            n = 500 if quick else 10_000
            log(f"govbot import of {n} proposals ...")
            results["import"] = {"sqlite": classify_import.import_cli(_sqlite(work, "import.sqlite3"), n, work)}
            if not pg_problem:
                with PgSchema(args.pg_url) as url:
                    results["import"]["postgresql"] = classify_import.import_cli(url, n, work)
        if "audit" in only:
            n = 500 if quick else 3000
            log("audit chain appends on sqlite ...")
            results["audit"] = {"sqlite": audit.run(_sqlite(work, "audit.sqlite3"), n, log)}
            if not pg_problem:
                log("audit chain appends on postgresql ...")
                with PgSchema(args.pg_url) as url:
                    results["audit"]["postgresql"] = audit.run(url, n, log)

        if "intake" in only:
            from bench import intake

            log("intake in one paragraph ...")
            results["intake"] = intake.run(log=log)

        if "policy" in only:
            sizes = [2000, 10_000] if quick else [10_000, 100_000]
            results["policy"] = {}
            for backend in ("sqlite", "postgresql"):
                if backend == "postgresql" and pg_problem:
                    continue
                log(f"policy what-if on {backend} ...")
                backend_sizes = sizes[:1] if backend == "sqlite" else sizes
                results["policy"][backend] = policy_bench.run_backend(backend, backend_sizes, work, args.pg_url, log)

        if "lanes" in only:
            log("mine under 50 slow digests and 500 portfolios (lanes) ...")
            results["lanes"] = lanes.run(_sqlite(work, "lanes.sqlite3"), quick, log=log)

        if "teams" in only:
            from bench import teams

            log("Teams vs Slack: fifty people typing help at once ...")
            results["teams"] = teams.run(_sqlite(work, "teams.sqlite3"), work, quick, log=log)

        if "similarity" in only:
            log("near-duplicates (similarity) ...")
            results["similarity"] = similarity.run(work, quick, log=log)

        if "value" in only:
            from bench import value

            log("metric sentences (baseline, target, unit) ...")
            results["value"] = value.run()

        if "assess" in only:
            from bench import assess

            log("assess: regulatory questions chosen per labelled proposal ...")
            results["assess"] = assess.run()
    results["targets"] = targets(results)
    return results


def _get(data: Any, *path: Any) -> Any:
    for key in path:
        if not isinstance(data, dict) or str(key) not in data:
            return None
        data = data[str(key)]
    return data


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its measured value and met/missed (None: not measured in this run)."""
    big = max((int(s) for s in (_get(r, "facts", "postgresql") or _get(r, "facts", "sqlite") or {"0": 0})), default=0)
    small = min((int(s) for s in (_get(r, "facts", "sqlite") or {"0": 0})), default=0)
    rows = [
        (
            "ack p99 at 50 clients <= 2x bare Bolt (slash command)",
            _get(r, "ack", "levels", 50, "command", "p99_ratio"),
            lambda v: v <= 2.0,
            "x",
        ),
        (
            "ack p99 at 50 clients <= 2x bare Bolt (button click)",
            _get(r, "ack", "levels", 50, "click", "p99_ratio"),
            lambda v: v <= 2.0,
            "x",
        ),
        (
            f"portfolio facts at {big} on PostgreSQL < 500 ms",
            _get(r, "facts", "postgresql", big, "portfolio_ms"),
            lambda v: v < 500,
            "ms",
        ),
        (
            f"digest prompt at {big} <= 1.1x its size at {small}",
            _ratio(_get(r, "facts", "sqlite", big, "prompt_chars"), _get(r, "facts", "sqlite", small, "prompt_chars")),
            lambda v: v <= 1.1,
            "x",
        ),
        ("classifier >= 5,000 proposals/s", _get(r, "classifier", "per_second"), lambda v: v >= 5000, "/s"),
        (
            "labelled proposals: no prohibited practice missed",
            _get(r, "judgement", "labelled", "missed_prohibited"),
            lambda v: v == 0,
            "missed",
        ),
        (
            "labelled proposals: no plain proposal raised to high risk or a high tier",
            _get(r, "judgement", "labelled", "plain_raised"),
            lambda v: v == 0,
            "raised",
        ),
        (
            "Teams help answer p99 at 50 people <= 2x a bare botbuilder bot",
            _get(r, "teams", "teams", "answer_p99_ratio"),
            lambda v: v <= 2.0,
            "x",
        ),
        (
            "unseen held-out proposals: no prohibited practice missed",
            _get(r, "judgement", "unseen held-out (untouched)", "missed_prohibited"),
            lambda v: v == 0,
            "missed",
        ),
        (
            "unseen held-out proposals: no plain proposal raised to high risk or a high tier",
            _get(r, "judgement", "unseen held-out (untouched)", "plain_raised"),
            lambda v: v == 0,
            "raised",
        ),
        ("govbot serve RSS after load < 250 MB", _get(r, "ack", "rss_mb_after_load"), lambda v: v < 250, "MB"),
        (
            f"portfolio facts at {big} adds < 50 MB peak (PostgreSQL, Python heap)",
            _get(r, "facts", "postgresql", big, "portfolio_heap_peak_mb"),
            lambda v: v < 50,
            "MB",
        ),
        (
            f"govbot import of {_get(r, 'import', 'sqlite', 'n')} < 60 s (SQLite, wall)",
            _get(r, "import", "sqlite", "seconds"),
            lambda v: v < 60,
            "s",
        ),
        (
            "audit event append (hash chain) adds < 2 ms at p50 over a bare INSERT (PostgreSQL)",
            _get(r, "audit", "postgresql", "p50_overhead_ms"),
            lambda v: v < 2.0,
            "ms",
        ),
        (
            f"govbot import of {_get(r, 'import', 'postgresql', 'n')} < 60 s (PostgreSQL, wall)",
            _get(r, "import", "postgresql", "seconds"),
            lambda v: v < 60,
            "s",
        ),
        (
            "intake: questions left after a good LLM reading of a complete paragraph <= 6 (max)",
            _get(r, "intake", "llm_good", "asked_max"),
            lambda v: v <= 6,
            "",
        ),
    ]
    what_if = _get(r, "policy", "postgresql") or {}
    what_if_size = max((int(s) for s in what_if), default=0)
    rows.append(
        (
            f"policy what-if of {what_if_size:,} proposals on PostgreSQL < 60 s (wall)",
            _get(what_if, what_if_size, "seconds"),
            lambda v: v < 60,
            "s",
        )
    )
    rows += [
        (
            "near-duplicates: precision on the labelled pairs >= 0.8",
            _get(r, "similarity", "quality", "precision"),
            lambda v: v >= 0.8,
            "",
        ),
        (
            "near-duplicates: recall on the labelled pairs >= 0.8",
            _get(r, "similarity", "quality", "recall"),
            lambda v: v >= 0.8,
            "",
        ),
        (
            "compare a new proposal with 10,000 (in-memory index, p95) < 50 ms",
            _get(r, "similarity", "index", 10_000, "lookup", "p95_ms"),
            lambda v: v < 50,
            "ms",
        ),
        (
            f"compare a new proposal with {_get(r, 'similarity', 'sqlite', 'n')} through SQLite (p95) < 50 ms",
            _get(r, "similarity", "sqlite", "lookup", "p95_ms"),
            lambda v: v < 50,
            "ms",
        ),
    ]
    return [
        {"target": name, "value": value, "unit": unit, "met": None if value is None else bool(check(value))}
        for name, value, check, unit in rows
    ]


def _ratio(a: Any, b: Any) -> float | None:
    return round(a / b, 3) if a and b else None


def table(r: dict[str, Any]) -> str:
    """The figures as a plain-text table."""
    lines = [
        f"govbot benchmarks ({'quick' if r['quick'] else 'full'}) {r['when']} — "
        f"{r['machine']['cpus']} CPUs, load {r['machine']['load_average_at_start']}",
        "",
    ]
    if "classifier" in r:
        c = r["classifier"]
        lines.append(
            f"classifier: {c['per_second']:,} proposals/s ({c['with_validation_per_second']:,}/s with "
            f"validation; n={c['n']})"
        )
    if "judgement" in r:
        from bench.judgement import text

        lines += ["", text(r["judgement"])]
    for backend, sizes in (r.get("facts") or {}).items():
        lines.append("")
        lines.append(f"facts on {backend}:   size | portfolio ms | digest ms | heap peak MB | prompt chars | seed s")
        for size, f in sizes.items():
            lines.append(
                f"  {int(size):>25,} | {f['portfolio_ms']:>12} | {f['digest_ms']:>9} | "
                f"{f['portfolio_heap_peak_mb']:>12} | {f['prompt_chars']:>12} | {f['seed_s']:>6}"
            )
    if "lanes" in r:
        w = r["lanes"]
        lines.append("")
        lines.append(
            f"mine p99 while {w['digests']} slow-LLM digests and {w['portfolios']} portfolios run "
            f"({w['proposals']} proposals, SQLite): lanes {w['lanes']['mine_p99_ms']} ms, one shared lane "
            f"{w['one_lane']['mine_p99_ms']} ms, alone {w['idle']['mine_p99_ms']} ms; "
            f"LLM time-outs {w['lanes']['llm_timeouts']}"
        )
    if "ack" in r:
        a = r["ack"]
        lines.append("")
        lines.append(
            f"ack latency ({a['database']}): clients | kind    | govbot p50/p99 ms | bare Bolt p50/p99 ms "
            "| p99 ratio | errors"
        )
        for level, row in a["levels"].items():
            for kind in ("command", "click"):
                g, b = row[kind]["govbot"], row[kind]["bare_bolt"]
                lines.append(
                    f"  {level:>27} | {kind:<7} | {g['p50_ms']:>7} / {g['p99_ms']:<7} | "
                    f"{b['p50_ms']:>7} / {b['p99_ms']:<10} | {row[kind]['p99_ratio']:>9} | "
                    f"{g['errors']}+{b['errors']}"
                )
        lines.append(
            f"  clicks decided {a['clicks_decided']}/{a['clicks_sent']}; govbot serve RSS "
            f"{a['rss_mb_before']} MB at start, {a['rss_mb_after_load']} MB after load"
        )
    for backend, i in (r.get("import") or {}).items():
        lines.append(
            f"govbot import on {backend}: {i['n']:,} proposals in {i['seconds']} s wall, "
            f"{i.get('cpu_s')} s CPU ({i['per_second']}/s): {i['summary']}"
        )
    for backend, a in (r.get("audit") or {}).items():
        c, b, w = a["chained"], a["bare_insert"], a["concurrent"]
        lines.append(
            f"audit append on {backend}: chained p50/p99 {c['p50_ms']}/{c['p99_ms']} ms ({c['per_second']}/s), "
            f"bare INSERT {b['p50_ms']}/{b['p99_ms']} ms; {w['writers']} writers {w['per_second']}/s "
            f"(errors {len(w['errors'])}); verify {a['verify_events_per_second']} events/s"
        )

    if "intake" in r:
        from bench import intake

        lines.extend(intake.lines(r["intake"]))

    for backend, sizes in (r.get("policy") or {}).items():
        lines.append("")
        lines.append(
            f"policy what-if on {backend}: size | seconds | proposals/s | changed | CPU s main+workers "
            "| RSS peak MB main/worker"
        )
        for size, p in sizes.items():
            lines.append(
                f"  {int(size):>30,} | {p['seconds']:>7} | {p['per_second']:>11,} | {p['changed']:>7,} | "
                f"{p['cpu_s_main']:>8} + {p['cpu_s_workers']:<8} | {p['rss_peak_mb_main']} / {p['rss_peak_mb_worker']}"
            )

    if "assess" in r:
        a = r["assess"]
        lines.append("")
        lines.append(
            f"assess <id> over {a['proposals']} labelled proposals: questions asked {a['questions_asked']}; "
            f"the words settled an answer in {a['with_answers_settled_by_the_words']}; choosing takes "
            f"p50 {a['choose_ms_p50']} ms, p95 {a['choose_ms_p95']} ms"
        )

    if "similarity" in r:
        sim = r["similarity"]
        q = sim["quality"]
        lines.append("")
        lines.append(
            f"near-duplicates on {q['pairs']} labelled pairs at threshold {q['threshold']}: precision "
            f"{q['precision']}, recall {q['recall']} ({q['true_pos']} found, {q['false_pos']} wrongly, "
            f"{q['false_neg']} missed)"
        )
        h = q["holdout"]
        lines.append(
            f"  held-out ({h['pairs']} pairs written after tuning): precision {h['precision']}, recall {h['recall']}"
        )
        lines.append(
            "  by threshold: " + ", ".join(f"{t}: P {v['precision']} R {v['recall']}" for t, v in q["sweep"].items())
        )
        lines.append("  in-memory index:   size | index s | add ms | look-up p50 / p95 / max ms | matches | terms")
        for size, f in sim["index"].items():
            lk = f["lookup"]
            lines.append(
                f"  {int(size):>22,} | {f['index_s']:>7} | {f['add_ms']:>6} | "
                f"{lk['p50_ms']:>6} / {lk['p95_ms']:>6} / {lk['max_ms']:>6}     | {f['matches_per_lookup']:>7} | "
                f"{f['terms']}"
            )
        s_ = sim["sqlite"]
        lines.append(
            f"  through SQLite at {s_['n']:,}: first look-up of a process {s_['first_lookup_ms']} ms (loads the "
            f"index), then p50 {s_['lookup']['p50_ms']} / p95 {s_['lookup']['p95_ms']} ms"
        )
    if "teams" in r:
        from bench import teams

        lines.extend(teams.lines(r["teams"]))

    if "value" in r:
        v = r["value"]
        lines.append("")
        lines.append(
            f"metric sentences ({v['sentences']} labelled): baseline/target precision {v['precision']}, recall "
            f"{v['recall']}; both right {v['both_right']}, unit right {v['unit_right']}; "
            f"{v['us_per_sentence']} us per sentence"
        )
        for text in v["wrong"]:
            lines.append(f"  read wrong: {text}")
        h = v["holdout"]
        lines.append(
            f"  held-out ({h['sentences']} written after tuning): precision {h['precision']}, recall {h['recall']}; "
            f"both right {h['both_right']}, unit right {h['unit_right']}"
        )
        for text in h["wrong"]:
            lines.append(f"  held-out read wrong: {text}")
    lines.append("")
    lines.append("targets:")
    for t in r["targets"]:
        state = "not measured" if t["met"] is None else ("met" if t["met"] else "MISSED")
        lines.append(f"  [{state:^12}] {t['target']}: {t['value']} {t['unit'] if t['value'] is not None else ''}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run (< 2 min)")
    parser.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument("--pg-url", default=os.environ.get("GOVBOT_BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--out", default=str(HERE / "results.json"), help="where to write the JSON results")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    results = run(args)
    results["elapsed_s"] = round(time.perf_counter() - began, 1)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\n(written to {args.out}; {results['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
