"""Plain-words text for the Models window: live download status and the failure report."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.dialogs.models_table import human_size


@dataclass(frozen=True)
class FailureReport:
    """What the window shows when a job fails: one line, a box, and the box's details."""

    summary: str  # the line under the table (elided there, full in its tooltip)
    text: str  # the report box's main text: which models installed, which failed and why
    hint: str  # what to do next ("" when nothing useful to say)
    details: str  # the whole message (mirrors tried, errors); "" when it adds nothing


def live_status(p) -> str:
    """The Status column while a file arrives: "Downloading 42%", then "Checking the file…"."""
    if not p.total:
        return f"Downloading {human_size(p.done)}"
    if p.done >= p.total:
        return "Checking the file…"
    return f"Downloading {min(99, int(100 * p.done / p.total))}%"


def progress_line(p) -> str:
    """The line under the table: bytes, speed, time left and any retry or resume message."""
    done = f"{p.label}: {human_size(p.done)}"
    parts = [done + (f" of {human_size(p.total)}" if p.total else "")]
    if p.speed:
        parts.append(f"{human_size(p.speed)}/s")
    if p.eta:
        parts.append(f"{int(p.eta) // 60}:{int(p.eta) % 60:02d} left")
    if p.message:
        parts.append(p.message)
    return " · ".join(parts)


def describe_failure(exc: BaseException) -> FailureReport:
    """Engine errors speak for themselves; anything else is a bug, said in plain words."""
    from desktop.dialogs.errors import BUG_TEXT
    from engine.checkpoints.download import MIRROR_HINT
    from engine.checkpoints.store import DownloadsFailed
    from engine.errors import StudioError

    full = (
        str(exc) if isinstance(exc, StudioError) else f"{BUG_TEXT}\n\n{type(exc).__name__}: {exc}"
    )
    hint = MIRROR_HINT if MIRROR_HINT in full else ""
    if isinstance(exc, DownloadsFailed):
        installed = [f"Installed: {', '.join(exc.installed)}."] if exc.installed else []
        failed = [f"Could not download {n}: {exc.reason(n)}." for n in exc.failed]
        text = "\n".join(installed + failed)
        reasons = "; ".join(f"{n} — {exc.reason(n)}" for n in exc.failed)
        summary = " ".join([*installed, f"Failed: {reasons}."])
    else:
        text = full.replace(MIRROR_HINT, "").strip().split("\n", 1)[0]
        summary = f"Failed: {text}"
    details = full if full.replace(hint, "").strip() != text.strip() else ""
    return FailureReport(summary=summary, text=text, hint=hint, details=details)
