"""`--fail-under METRIC=VALUE`: quality gates a CI can fail a build on."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from core.errors import BadInput
from eval.score import RATES

Gate = tuple[str, float]


def parse_gates(specs: Sequence[str]) -> list[Gate]:
    """`["f1=0.5", "mrr=0.7"]` -> `[("f1", 0.5), ("mrr", 0.7)]`; BadInput on any bad spec.

    Only higher-is-better metrics can be gated "under" (a latency floor would make no sense).
    """
    gates: list[Gate] = []
    valid = ", ".join(RATES)
    for spec in specs:
        name, sep, value = spec.partition("=")
        name = name.strip()
        if not sep:
            raise BadInput(f"--fail-under {spec!r} is not METRIC=VALUE", f"e.g. f1=0.5; {valid}")
        if name not in RATES:
            raise BadInput(f"--fail-under: unknown metric {name!r}", f"use one of: {valid}")
        try:
            v = float(value)
        except ValueError:
            raise BadInput(
                f"--fail-under {spec!r}: {value!r} is not a number", "e.g. f1=0.5"
            ) from None
        if not math.isfinite(v):
            raise BadInput(f"--fail-under {spec!r}: value must be finite", "e.g. f1=0.5")
        gates.append((name, v))
    return gates


def check_gates(metrics: dict[str, Any], gates: Sequence[Gate]) -> list[dict[str, Any]]:
    """One result per gate. A metric no question counted for (None) fails its gate: a gate
    that cannot be evaluated must not pass silently."""
    out = []
    for name, minimum in gates:
        value = metrics.get(name)
        passed = value is not None and value >= minimum
        out.append({"metric": name, "minimum": minimum, "value": value, "passed": passed})
    return out
