"""Python's cycle collector, run on the GUI thread only.

The interpreter collects reference cycles on whichever thread happens to allocate when a
threshold is passed: in this app that is usually the model's worker thread, which allocates
constantly. A cycle that holds a closed window's or dialog's wrappers (signal lambdas make
such cycles) would then destroy Qt widgets and VTK render objects off the GUI thread: heap
damage that crashes the app later, somewhere unrelated. So the automatic collector is switched
off and a GUI-thread timer does the same collections, generation by generation, against the
interpreter's own thresholds (the pattern pyqtgraph's GarbageCollector uses).

Everything alive when the collector starts (the imported stack: some 590,000 objects) is
frozen out of collection first: a full collection over it costs about 300 ms of the GUI
thread, after gc.freeze() a fraction of a millisecond.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500  # a gen-0 pass costs well under a millisecond; gen 2 is rare


class GuiThreadCollector(QObject):
    """Create it on the GUI thread (one per app); `stop()` gives collection back."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        gc.freeze()  # start-up objects live for the whole run: never traverse them again
        self._timer = QTimer(self)
        self._timer.setObjectName("gui-thread garbage collector")
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> int:
        """Collect the oldest generation whose threshold is passed; the objects found."""
        counts, limits = gc.get_count(), gc.get_threshold()
        generation = -1
        for gen in range(3):
            if limits[gen] and counts[gen] > limits[gen]:
                generation = gen
        return gc.collect(generation) if generation >= 0 else 0

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()


_installed: GuiThreadCollector | None = None


def install(app: QObject) -> GuiThreadCollector:
    """The app's collector (created once, owned by `app`)."""
    global _installed
    if _installed is None:
        _installed = GuiThreadCollector(app)
    return _installed
