"""The tests' fixed "now"."""

from __future__ import annotations

from datetime import UTC, datetime

# A Monday morning, so weekly periods are easy to reason about in tests.
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
