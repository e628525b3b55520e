"""Progress of a long import or export, for people and for logs."""

from __future__ import annotations

import itertools
import logging
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import click

logger = logging.getLogger(__name__)

# Redraw the bar at most this often, in seconds.
BAR_REFRESH = 0.2


class Progress:
    """Reports how far a command got, as a bar or as periodic log lines.

    On a terminal (``terminal`` True) it draws click's progress bar on
    stderr with the rate and the time left. Otherwise it logs one line every
    ``log_every`` seconds. ``total`` and each ``position`` are in one unit
    (bytes of the input, or books); with ``total`` None the bar shows no
    percentage or time left. ``done`` counts the rows finished, for the rate.
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        unit: str,
        terminal: bool,
        log_every: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = None if total is None else max(total, 1)
        self.unit = unit
        self.terminal = terminal
        self.log_every = log_every
        self.clock = clock
        self.started = clock()
        self._last_report = self.started
        self._bar: Any = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc_value, traceback)
            self._bar = None

    def rate(self, done: int) -> float:
        elapsed = self.clock() - self.started
        return done / elapsed if elapsed > 0 else 0.0

    def update(
        self, position: int, done: int, detail: str = "", final: bool = False
    ) -> None:
        """Show the new position, at most once per refresh or log interval.

        ``final`` draws the bar's last state whatever the interval. In log
        mode it has no effect, since the command prints a summary instead.
        """
        now = self.clock()
        interval = BAR_REFRESH if self.terminal else self.log_every
        if now - self._last_report < interval and not (final and self.terminal):
            return
        self._last_report = now
        if self.terminal:
            self._draw(position, done)
        else:
            self._log(position, done, detail, now - self.started)

    def _open_bar(self) -> Any:
        """Start drawing the bar, on the first update so that log lines of
        the command's start come before it."""
        # Without a length, click draws a bar that moves without filling.
        self._bar = click.progressbar(
            iterable=itertools.repeat(None) if self.total is None else None,
            length=self.total,
            label=self.label,
            file=sys.stderr,
            show_eta=True,
            show_percent=self.total is not None,
            item_show_func=_item_text,
        )
        self._bar.__enter__()
        return self._bar

    def _draw(self, position: int, done: int) -> None:
        bar = self._bar if self._bar is not None else self._open_bar()
        if self.total is not None:
            position = min(position, self.total)
        bar.current_item = f"{done:,} {self.unit}  {self.rate(done):,.0f} {self.unit}/s"
        step = position - bar.pos
        if step > 0:
            bar.update(step)
        else:
            bar.render_progress()

    def _log(self, position: int, done: int, detail: str, elapsed: float) -> None:
        message = f"{self.label}: {done:,} {self.unit} done"
        if detail:
            message += f" ({detail})"
        message += f", {self.rate(done):,.0f} {self.unit}/s"
        if self.total is not None:
            fraction = min(position / self.total, 1.0)
            message += f", {int(fraction * 100)}% of the input"
            if fraction > 0:
                left = elapsed * (1 - fraction) / fraction
                message += f", {format_duration(left)} left"
        logger.info("%s", message)


def _item_text(item: Any) -> str | None:
    """Show the rate text that :meth:`Progress.update` sets as the bar's item."""
    return None if item is None else str(item)


def format_duration(seconds: float) -> str:
    """Format seconds as H:MM:SS."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02}:{whole % 60:02}"
