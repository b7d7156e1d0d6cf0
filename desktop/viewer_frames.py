"""When the 3D view draws: throttled frames, what each costs, and callbacks once drawn."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

MIN_FRAME_S = 1.0 / 30.0  # preview renders are throttled to what the eye can use
# at most 1/(1+2) of the GUI thread goes to preview frames: with slow (software) GL the frame
# rate drops instead of the window freezing
RENDER_BUDGET_FACTOR = 2.0
DRAWN_TIMEOUT_MS = 250  # when_drawn() stops waiting for a paint (hidden or minimized window)


class FramePacer(QObject):
    """Schedules the viewer's frames and times them from paint to swap.

    A frame is a widget update(), drawn by Qt's next paint of the window, so that the progress
    bar and anything else changed by the same step are composed with it in one pass (repaint()
    would compose now, and again for the other widgets)."""

    def __init__(
        self, widget: QWidget, render_now: Callable[[], bool], on_frame: Callable[[], None]
    ) -> None:
        super().__init__(widget)
        self.widget = widget
        self._render_now = render_now  # renders into the frame outside a paint; False: could not
        self._on_frame = on_frame
        self.frames = 0
        self.render_cost = 0.0  # smoothed seconds per frame, paint to swap (sets the throttle)
        self.frame_interval = MIN_FRAME_S
        self.stale = True  # a change was asked for since the last frame was rendered
        self._last = 0.0
        self._paint_started: float | None = None
        self._drawn: list[Callable[[], None]] = []
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(widget.update)
        self._drawn_timeout = QTimer(self)
        self._drawn_timeout.setSingleShot(True)
        self._drawn_timeout.timeout.connect(self._give_up_waiting)

    def request(self) -> None:
        """A frame at most every frame_interval; a burst of requests becomes one frame."""
        self.stale = True
        wait = self.frame_interval - (time.perf_counter() - self._last)
        if wait <= 0:
            self.timer.stop()
            self.widget.update()  # Qt coalesces updates made before the paint
        elif not self.timer.isActive():
            self.timer.start(max(1, int(wait * 1000)))

    def flush(self) -> None:
        """Render now what is pending (nothing when the last frame shows every change)."""
        if self.stale and self._render_now():
            self.timer.stop()
            self.stale = False

    def when_drawn(self, fn: Callable[[], None]) -> None:
        """Call fn once every change asked for so far is in a frame: after the next paint, at
        once when nothing is pending, or (flushed first) if no paint comes soon."""
        if not self.stale:
            fn()
            return
        self._drawn.append(fn)
        if not self._drawn_timeout.isActive():
            self._drawn_timeout.start(DRAWN_TIMEOUT_MS)

    def on_paint(self) -> None:
        self.stale = False  # this paint renders every change made so far
        self._paint_started = self._last = time.perf_counter()

    def on_swapped(self) -> None:
        """A frame reached the screen: its cost (render + compose) sets the throttle."""
        if self._paint_started is None:
            return
        end = time.perf_counter()
        cost = end - self._paint_started
        self._paint_started = None
        if self.frames == 1:  # the first frame sets up GL and compiles shaders: not typical
            self.render_cost = cost
        elif self.frames > 1:
            self.render_cost = 0.7 * self.render_cost + 0.3 * cost
        self.frame_interval = max(MIN_FRAME_S, RENDER_BUDGET_FACTOR * self.render_cost)
        self._last = end
        self.frames += 1
        self._on_frame()
        if self._drawn and not self.stale:
            # after this paint event, not inside it: the frame's own pause stays short
            QTimer.singleShot(0, self, self._call_drawn)

    def _give_up_waiting(self) -> None:
        self.flush()
        self._call_drawn()

    def _call_drawn(self) -> None:
        self._drawn_timeout.stop()
        drawn, self._drawn = self._drawn, []
        for fn in drawn:
            fn()

    def stop(self) -> None:
        """Close-down: no more frames, pending callbacks are dropped."""
        self.timer.stop()
        self._drawn_timeout.stop()
        self._drawn = []
