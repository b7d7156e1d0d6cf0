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
import time
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


def _window(app, run_fn=None):
    from desktop.app import create_window

    window = create_window(run_fn=run_fn, probe=False)
    window.show()
    while window.viewer is None:
        app.processEvents()
        time.sleep(0.005)
    return window


def heartbeat(app, model: str, steps: int) -> tuple[list[float], float, int]:
    """Gaps between 10 ms QTimer ticks while a real pipeline run streams into the window."""
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
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()
    window.generationFinished.connect(lambda _e: loop.quit())
    window.generationFailed.connect(lambda e: (print("generation failed:", e), loop.quit()))
    start = time.perf_counter()
    timer.start()
    window.generate()
    loop.exec()
    timer.stop()
    seconds = time.perf_counter() - start
    frames = window.viewer.frames
    window.close()
    return [b - a for a, b in itertools.pairwise(ticks)], seconds, frames


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
    parser.add_argument("--starts", type=int, default=3, help="cold starts to time")
    parser.add_argument("--model", default=None, help="model for the heartbeat run")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0, help="preview measurement time")
    args = parser.parse_args()
    os.environ.setdefault("POINTE_STUDIO_HOME", tempfile.mkdtemp(prefix="bench-gui-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    visible, ready = cold_start(args.starts)
    print(f"cold start to visible window: median {statistics.median(visible):.2f} s "
          f"(runs: {', '.join(f'{v:.2f}' for v in visible)}); goal < 3 s")  # fmt: skip
    print(f"cold start to ready 3D view:  median {statistics.median(ready):.2f} s")

    from desktop.app import create_app

    app = create_app()
    model = args.model
    if model is None:
        model = "embedded"  # the shipped model: what a first-time user runs
    gaps, seconds, frames = heartbeat(app, model, args.steps)
    p95 = sorted(gaps)[int(0.95 * (len(gaps) - 1))]
    print(
        f"heartbeat during a {model} run of {seconds:.1f} s ({args.steps} steps/stage, "
        f"{frames} frames): worst gap {max(gaps) * 1000:.0f} ms, median "
        f"{statistics.median(gaps) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; goal worst < 50 ms"
    )
    fps, cost = preview_fps(app, 4096, args.seconds)
    print(f"preview of 4,096 points: {fps:.1f} frames/s (render {cost:.0f} ms/frame); "
          f"goal >= 20")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
