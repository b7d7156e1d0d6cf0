"""File-system helpers for downloads: cancel flags, lock files, hashing, free-space checks."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from engine.errors import CheckpointError, StudioError

#: A cancel flag: an Event, or a callable returning True once the user cancelled.
Cancel = threading.Event | Callable[[], bool] | None


class DownloadCancelled(StudioError):
    """The user cancelled a download; the partial file has been removed."""


def is_cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


@contextlib.contextmanager
def file_lock(path: Path, what: str) -> Iterator[None]:
    """An exclusive lock file holding our pid; a lock of a dead process is taken over."""
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            try:
                pid = int(path.read_text().strip() or "0")
            except (OSError, ValueError):
                pid = 0
            if pid and _pid_alive(pid):
                raise CheckpointError(
                    f"{what} is already being downloaded (process {pid}). Wait for it to finish."
                ) from None
            path.unlink(missing_ok=True)  # stale: its process is gone
    else:
        raise CheckpointError(f"Could not take the download lock {path}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        yield
    finally:
        path.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def sha256_file(path: Path, cancel: Cancel = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            if is_cancelled(cancel):
                raise DownloadCancelled("Cancelled.")
            digest.update(chunk)
    return digest.hexdigest()


def check_free_space(folder: Path, needed: int) -> None:
    """Refuse to start when the disk cannot take the file (plus what the caller adds)."""
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise CheckpointError(
            f"Not enough free disk space in {folder}: need {human_size(needed)}, "
            f"{human_size(free)} free. Free some space or move the model folder in Settings."
        )
