"""`assess <id>`: how many regulatory questions the owner is asked, and how long choosing
them takes, over every labelled proposal of tests/support/ (as written, nothing
declared but what the case declares). Figures only.

    python -m bench.assess
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from typing import Any

from bot.domain import assessment
from bot.domain.policy_file import load_policy
from tests.support.judgement import SETS, load_cases


def run() -> dict[str, Any]:
    policy = load_policy()
    asked: Counter[int] = Counter()
    keys: Counter[str] = Counter()
    times: list[float] = []
    settled = 0
    for path in SETS.values():
        for case in load_cases(path):
            start = time.perf_counter()
            chosen = assessment.choose(case.answers, policy)
            times.append((time.perf_counter() - start) * 1000)
            asked[len(chosen.questions)] += 1
            keys.update(chosen.asked_keys())
            settled += bool(chosen.raised)
    times.sort()
    return {
        "proposals": len(times),
        "questions_asked": dict(sorted(asked.items())),
        "asked_per_key": dict(keys.most_common()),
        "with_answers_settled_by_the_words": settled,
        "choose_ms_p50": round(statistics.median(times), 1),
        "choose_ms_p95": round(times[int(len(times) * 0.95) - 1], 1),
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value}")
