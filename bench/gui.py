"""GUI benchmark: cold start to a visible window, GUI-thread heartbeat during a generation, and
preview frames per second for 4,096 points. Run under a display (or xvfb-run)."""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import sys, time
t_proc = float(sys.argv[1])
from desktop.app import create_app, create_window
app = create_app()
window = create_window(probe=False)
window.show()
while not (window.windowHandle() and window.windowHandle().isExposed()):
    app.processEvents()
app.processEvents()
visible = time.time()
while window.viewer is None:
    app.processEvents()
    time.sleep(0.005)
window.viewer.flush()
app.processEvents()
ready = time.time()
heavy = [m for m in ("torch", "pyvista") if m in sys.modules]
print(f"RESULT {visible - t_proc:.3f} {ready - t_proc:.3f}")
window.close()
"""


def cold_start(runs: int) -> tuple[list[float], list[float]]:
    """Seconds from process launch to a visible window, and to a ready 3D view."""
    visible, ready = [], []
    env = {**os.environ, "POINTE_STUDIO_HOME": tempfile.mkdtemp(prefix="bench-gui-")}
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(t0)], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")]
        if not line:
            raise SystemExit(f"start-up child failed:\n{out.stderr[-2000:]}")
        v, r = map(float, line[0].split()[1:])
        visible.append(v)
        ready.append(r)
    return visible, ready


class GapTracer:
    """Notes what the window was told when (cheap), and with `sample` also samples the GUI
    thread's Python stack while its heartbeat is late and times every Qt event delivery.

    A sample names the innermost frame in this project's code (and its project caller), plus
    the library frame it was in; a stack that is only the bench's event loop means Qt's own
    C++ work (painting, layout) or a slot without Python frames."""

    def __init__(self, sample: bool, late_s: float = 0.025, every_s: float = 0.005) -> None:
        self.sample, self.late_s, self.every_s = sample, late_s, every_s
        self.main = threading.main_thread().ident
        self.state = (0, time.perf_counter())  # (ticks so far, last tick): swapped atomically
        self.samples: defaultdict[int, Counter] = defaultdict(Counter)
        self.events: list[tuple[float, str]] = []  # (time, what the window was told)
        self.deliveries: list[tuple[float, str]] = []  # (time, Qt event -> receiver)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="gap-tracer", daemon=True)

    def tick(self, index: int, t: float) -> None:
        self.state = (index, t)

    def note(self, what: str) -> None:
        self.events.append((time.perf_counter(), what))

    def start(self) -> None:
        if self.sample:
            self._thread.start()

    def stop(self) -> None:
        if self.sample:
            self._stop.set()
            self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self.every_s):
            index, last = self.state
            if time.perf_counter() - last > self.late_s:
                frame = sys._current_frames().get(self.main)
                if frame is not None:
                    self.samples[index][_where(frame)] += 1

    def report(self, ticks: list[float], worst: int = 5, top: int = 3) -> None:
        """Gap i (between ticks i and i+1) was sampled while the tracer's index was i + 1."""
        if self.sample:
            print(f"gap trace (samples every {self.every_s * 1000:.0f} ms once a tick is "
                  f"{self.late_s * 1000:.0f} ms late; none while the GUI thread holds the GIL "
                  f"in C++, e.g. inside a VTK render):")  # fmt: skip
        else:
            worst, top = 3, 0
            print("worst gaps (--trace-gaps shows what ran in them):")
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        for i in sorted(range(len(gaps)), key=gaps.__getitem__, reverse=True)[:worst]:
            seen = self.samples.get(i + 1, Counter())
            begin, end = ticks[i], ticks[i + 1]
            before = [what for t, what in self.events if t <= begin][-1:]
            during = [what for t, what in self.events if begin < t <= end]
            samples = f" ({sum(seen.values())} samples)" if self.sample else ""
            print(f"  gap {gaps[i] * 1000:.0f} ms at {begin - ticks[0]:.2f} s{samples}; last "
                  f"event before: {', '.join(before) or '-'}; "
                  f"during: {', '.join(during) or '-'}")  # fmt: skip
            for where, n in seen.most_common(top):
                print(f"    {n:3d} x {where}")
            for cost, what in self._costly(begin, end)[:top]:
                print(f"    {cost * 1000:5.0f} ms until the next event: {what}")

    def _costly(self, begin: float, end: float) -> list[tuple[float, str]]:
        """Deliveries inside (begin, end], longest first, each timed to the next one."""
        d = self.deliveries
        out = []
        for k, (t, what) in enumerate(d):
            if begin < t <= end:
                after = d[k + 1][0] if k + 1 < len(d) else end
                out.append((min(after, end) - t, what))
        return sorted(out, reverse=True)


def event_clock(app, tracer: GapTracer):
    """An application-wide event filter noting when each event is delivered: the time until the
    next delivery is what that event cost (C++ painting included, which stack samples miss)."""
    from PySide6.QtCore import QObject

    class Clock(QObject):
        def eventFilter(self, obj, event) -> bool:
            name = obj.objectName() or type(obj).__name__
            tracer.deliveries.append((time.perf_counter(), f"{event.type().name} -> {name}"))
            return False

    clock = Clock()
    app.installEventFilter(clock)
    return clock


def _where(frame) -> str:
    """'project frame < its project caller [library frame]' for one stack."""
    project: list[str] = []
    library = None
    f = frame
    while f is not None and len(project) < 2:
        path = Path(f.f_code.co_filename)
        here = f"{f.f_code.co_name} ({path.name}:{f.f_lineno})"
        if ROOT in path.parents and ".venv" not in path.parts:
            project.append(f"{path.relative_to(ROOT)}:{f.f_lineno} {f.f_code.co_name}")
        elif library is None and not project:
            library = here
        f = f.f_back
    return " < ".join(project) + (f" [in {library}]" if library else "")


def _window(app, run_fn=None):
    from desktop.app import create_window

    window = create_window(run_fn=run_fn, probe=False)
    window.show()
    while window.viewer is None:
        app.processEvents()
        time.sleep(0.005)
    return window


def heartbeat(
    app, model: str, steps: int, tracer: GapTracer | None = None, tail_s: float = 0.5
) -> tuple[list[float], float, int]:
    """Tick times of a 10 ms QTimer while a real pipeline run streams into the window, and for
    `tail_s` after it finished: saving the result to History is part of the run."""
    from PySide6.QtCore import QEventLoop, QTimer

    from engine.pipeline import run

    def run_fn(request, *, should_cancel=None):
        request = replace(request, model=model, steps=steps)
        return run(request, should_cancel=should_cancel)

    window = _window(app, run_fn)
    window.side.prompt.set_text("a red cube")
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)

    def tick() -> None:
        ticks.append(time.perf_counter())
        if tracer is not None:
            tracer.tick(len(ticks), ticks[-1])

    timer.timeout.connect(tick)
    loop = QEventLoop()
    finished: list[float] = []

    def done(_entry) -> None:
        finished.append(time.perf_counter())
        QTimer.singleShot(int(tail_s * 1000), loop.quit)

    window.generationFinished.connect(done)
    window.generationFailed.connect(lambda e: (print("generation failed:", e), loop.quit()))
    if tracer is not None:  # connected after the window's own slots: noted once handled
        ctl = window.controller
        ctl.started.connect(lambda *_a: tracer.note("started"))
        ctl.step.connect(
            lambda _g, s: tracer.note(f"{s.stage} {s.step}/{s.total_steps}{' final' * s.final}")
        )
        ctl.succeeded.connect(lambda *_a: tracer.note("succeeded"))
        window.generationFinished.connect(lambda _e: tracer.note("saved"))
    start = time.perf_counter()
    timer.start()
    if tracer is not None:
        tracer.start()
    clock = event_clock(app, tracer) if tracer is not None and tracer.sample else None
    window.generate()
    loop.exec()
    if clock is not None:
        app.removeEventFilter(clock)
    timer.stop()
    if tracer is not None:
        tracer.stop()
    seconds = (finished[0] if finished else time.perf_counter()) - start
    frames = window.viewer.frames
    window.close()
    return ticks, seconds, frames


def preview_fps(app, n_points: int, seconds: float) -> tuple[float, float]:
    """Frames per second the viewer shows while fed new points far faster than it can render."""
    import numpy as np
    from PySide6.QtCore import QEventLoop, QTimer

    window = _window(app)
    viewer = window.viewer
    rng = np.random.default_rng(0)
    batches = [
        ((rng.normal(size=(n_points, 3)) * 0.3).astype(np.float32), rng.random((n_points, 3)))
        for _ in range(8)
    ]
    counter = {"i": 0}

    def feed() -> None:
        counter["i"] += 1
        viewer.show_points(*batches[counter["i"] % len(batches)])

    feed()
    viewer.flush()
    producer = QTimer()
    producer.setInterval(5)  # 200 updates/s offered
    producer.timeout.connect(feed)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    frames0 = viewer.frames
    producer.start()
    loop.exec()
    producer.stop()
    fps = (viewer.frames - frames0) / seconds
    cost_ms = viewer.render_cost * 1000
    window.close()
    return fps, cost_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--starts", type=int, default=3, help="cold starts to time (0: none)")
    parser.add_argument("--model", default=None, help="model for the heartbeat run")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0, help="preview measurement time")
    parser.add_argument(
        "--trace-gaps", action="store_true", help="show what the GUI thread did in the worst gaps"
    )
    args = parser.parse_args()
    os.environ.setdefault("POINTE_STUDIO_HOME", tempfile.mkdtemp(prefix="bench-gui-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    if args.starts > 0:
        visible, ready = cold_start(args.starts)
        print(f"cold start to visible window: median {statistics.median(visible):.2f} s "
              f"(runs: {', '.join(f'{v:.2f}' for v in visible)}); goal < 3 s")  # fmt: skip
        print(f"cold start to ready 3D view:  median {statistics.median(ready):.2f} s")

    from desktop.app import create_app

    app = create_app()
    model = args.model
    if model is None:
        model = "embedded"  # the shipped model: what a first-time user runs
    tracer = GapTracer(sample=args.trace_gaps)
    ticks, seconds, frames = heartbeat(app, model, args.steps, tracer)
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    p95 = sorted(gaps)[int(0.95 * (len(gaps) - 1))]
    print(
        f"heartbeat during a {model} run of {seconds:.1f} s and its save "
        f"({args.steps} steps/stage, {frames} frames): worst gap {max(gaps) * 1000:.0f} ms, median "
        f"{statistics.median(gaps) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; goal worst < 50 ms"
    )
    tracer.report(ticks)
    fps, cost = preview_fps(app, 4096, args.seconds)
    print(f"preview of 4,096 points: {fps:.1f} frames/s (render {cost:.0f} ms/frame); "
          f"goal >= 20")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
