"""`pointe-studio --selftest`: open the real window, generate, export a PLY, read it back, report.

It proves that an installed (frozen) app has everything it loads: Qt and its platform plugin,
VTK's OpenGL view, torch, the built-in model and the PLY writer and reader. It prints ONE line,
``SELFTEST OK: ...`` (exit 0) or ``SELFTEST FAILED: <reason>`` (exit 1; 2 on a timeout), and
uses a temporary POINTE_STUDIO_HOME so nothing lands in the user's history or settings.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

PROMPT = "a red cube"
DEFAULT_TIMEOUT_S = 300.0


@dataclass
class Outcome:
    """What the event loop saw: set once by the first signal (or the timeout)."""

    ok: bool | None = None  # None while waiting
    reason: str = ""  # why it failed
    exit_code: int = 1  # 1 failed check, 2 timeout
    notes: dict = field(default_factory=dict)  # timings and facts for the summary line


def check_ply(path: Path) -> str:
    """Read the exported file back with the engine's reader; raise AssertionError if it is wrong."""
    import numpy as np

    from engine.export import load
    from engine.pointcloud import PointCloud

    back = load(path)
    if not isinstance(back, PointCloud):
        raise AssertionError(f"{path.name} read back as a {type(back).__name__}, not a point cloud")
    n = len(back)
    if n <= 0:
        raise AssertionError(f"{path.name} has no points")
    if not np.all(np.isfinite(back.coords)):
        raise AssertionError(f"{path.name} has NaN or infinite coordinates")
    if back.colors is None:
        raise AssertionError(f"{path.name} has no colours")
    lo, hi = float(back.colors.min()), float(back.colors.max())
    if not (0.0 <= lo <= hi <= 1.0):
        raise AssertionError(f"{path.name} colours outside 0..1: [{lo:.3f}, {hi:.3f}]")
    span = float(np.ptp(back.coords, axis=0).max())
    if span <= 0.0:
        raise AssertionError(f"{path.name}: all points are in one place")
    kb = path.stat().st_size / 1024
    return f"{n} points, finite, extent {span:.2f}, colours [{lo:.2f}, {hi:.2f}], PLY {kb:.0f} KB"


def _versions() -> str:
    parts = [f"Python {sys.version.split()[0]}"]
    for name in ("torch", "PySide6", "vtkmodules"):
        mod = sys.modules.get(name)
        version = getattr(mod, "__version__", None) if mod is not None else None
        if version:
            parts.append(f"{'VTK' if name == 'vtkmodules' else name} {version}")
    parts.append("frozen" if getattr(sys, "frozen", False) else "source")
    return ", ".join(parts)


def _drive(timeout_s: float, prompt: str, work: Path) -> Outcome:
    """Create the app and window, run one generation in the event loop, check the result."""
    from PySide6.QtCore import QTimer

    from desktop.app import create_app, create_window

    out = Outcome()
    start = time.monotonic()
    app = create_app([sys.argv[0] if sys.argv else "pointe-studio"])
    window = create_window(probe=False)
    clock: dict[str, float] = {}

    def finish(ok: bool, reason: str = "", code: int = 1) -> None:
        if out.ok is not None:
            return
        out.ok, out.reason, out.exit_code = ok, reason, code
        app.quit()

    def on_finished(_entry) -> None:
        out.notes["generate_s"] = time.monotonic() - clock.get("generate", start)
        cloud = window.current_cloud
        if cloud is None:
            finish(False, "generation finished but the window has no current cloud")
            return
        try:
            from engine.export import save

            path = save(cloud, work / "selftest.ply")
            out.notes["ply"] = check_ply(path)
        except Exception as exc:
            finish(False, f"export/read-back: {type(exc).__name__}: {exc}")
            return
        viewer = getattr(window, "viewer", None)
        shown = getattr(getattr(viewer, "cloud", None), "n_points", None)
        if shown is not None:
            out.notes["viewer"] = f"viewer shows {shown} points"
        finish(True)

    def on_failed(exc) -> None:
        finish(False, f"generation failed: {type(exc).__name__}: {exc}")

    def start_generation() -> None:
        if out.ok is not None or "generate" in clock:
            return
        clock["generate"] = time.monotonic()
        out.notes["startup_s"] = clock["generate"] - start
        window.side.prompt.set_text(prompt)
        window.generate()

    window.generationFinished.connect(on_finished)
    window.generationFailed.connect(on_failed)
    ready = getattr(window, "viewerReady", None)  # the 3D view is built just after first show
    if ready is not None:
        ready.connect(lambda: QTimer.singleShot(0, start_generation))
        QTimer.singleShot(int(min(timeout_s, 120.0) * 1000), start_generation)  # proceed anyway
    else:
        QTimer.singleShot(500, start_generation)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(lambda: finish(False, f"no result within {timeout_s:.0f} s", 2))
    deadline.start(int(timeout_s * 1000))
    window.show()
    try:
        app.exec()
    finally:
        deadline.stop()
        window.close()  # cancels and waits for workers, closes the plotter
        app.processEvents()
    out.notes["total_s"] = time.monotonic() - start
    if out.ok is None:
        out.ok, out.reason = False, "the event loop ended before a result"
    return out


def summary(out: Outcome) -> str:
    notes = out.notes
    timing = ", ".join(
        f"{label} {notes[key]:.1f} s"
        for key, label in (("startup_s", "start"), ("generate_s", "generate"), ("total_s", "total"))
        if key in notes
    )
    if out.ok:
        body = "; ".join(str(notes[k]) for k in ("ply", "viewer") if k in notes)
        return f"SELFTEST OK: {body}; {timing} ({_versions()})"
    return f"SELFTEST FAILED: {out.reason} ({timing}; {_versions()})"


def main(argv: list[str] | None = None) -> int:
    """Entry for `main.py --selftest [--timeout S] [--prompt P] [--report FILE] [--keep]`."""
    parser = argparse.ArgumentParser(prog="pointe-studio --selftest", description=__doc__)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds")
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--report", type=Path, help="also write the summary line to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home folder")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="pointe-selftest-"))
    os.environ["POINTE_STUDIO_HOME"] = str(work / "home")  # no history or settings of the user's
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the built-in model needs no network
    try:
        out = _drive(args.timeout, args.prompt, work)
    except Exception as exc:  # a missing library or plugin surfaces here: report, don't crash
        out = Outcome(ok=False, reason=f"{type(exc).__name__}: {exc}")
        if sys.stderr is not None:
            traceback.print_exc(file=sys.stderr)
    line = summary(out)
    if sys.stdout is not None:  # None in a Windows GUI executable (use --report there)
        print(line, flush=True)
    if args.report is not None:
        args.report.write_text(line + "\n", encoding="utf-8")
    if args.keep:
        if sys.stderr is not None:
            print(f"kept {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if out.ok else out.exit_code
