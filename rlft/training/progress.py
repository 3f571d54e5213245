"""Training progress: a bar with steps/s and the latest evaluation on a terminal, plain periodic
log lines otherwise (CI logs, ``nohup``, sweeps)."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

log = logging.getLogger("rlft")


def _format_eval(summary: dict[str, Any] | None) -> str:
    if not summary:
        return ""
    parts = []
    if summary.get("success_rate") is not None:
        parts.append(f"success={summary['success_rate']:.2f}")
    parts.append(f"reward={summary['mean_reward']:.2f}")
    return "eval " + " ".join(parts)


class Progress:
    def __init__(self, mode: str, total: int, start: int, every_s: float) -> None:
        if mode == "auto":
            mode = "bar" if sys.stderr.isatty() else "log"
        self.mode = mode
        self.total, self.start = total, start
        self.every_s = every_s
        self.last_steps = start
        self.t0 = self.last_log = time.monotonic()
        self.latest_eval: dict[str, Any] | None = None
        self.bar = None
        if mode == "bar":
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                initial=start,
                unit="step",
                unit_scale=True,
                dynamic_ncols=True,
                file=sys.stderr,
                smoothing=0.1,
            )

    def steps_per_second(self, steps: int) -> float:
        elapsed = time.monotonic() - self.t0
        return (steps - self.start) / elapsed if elapsed > 0 else 0.0

    def update(self, steps: int) -> None:
        if self.bar is not None:
            self.bar.update(steps - self.last_steps)
            self.last_steps = steps
        elif self.mode == "log":
            now = time.monotonic()
            if now - self.last_log >= self.every_s:
                self.last_log = now
                self._log_line(steps)

    def _log_line(self, steps: int) -> None:
        rate = self.steps_per_second(steps)
        eta = (self.total - steps) / rate if rate > 0 else float("nan")
        log.info(
            "steps %d/%d (%.0f%%) | %.0f steps/s | eta %.0fs %s",
            steps,
            self.total,
            100.0 * steps / self.total if self.total else 100.0,
            rate,
            eta,
            _format_eval(self.latest_eval),
        )

    def set_eval(self, summary: dict[str, Any]) -> None:
        self.latest_eval = summary
        if self.bar is not None:
            self.bar.set_postfix_str(_format_eval(summary), refresh=False)

    def close(self, steps: int) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.mode == "log":
            self._log_line(steps)
