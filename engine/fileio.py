"""Atomic file writes: a temporary file beside the target, then one rename (never half-written)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(
    dest: str | os.PathLike, *, tmp_dir: str | os.PathLike | None = None
) -> Iterator[Path]:
    """Yield a fresh temporary path; when the block succeeds it replaces `dest` in one rename.

    The temporary file lives in `tmp_dir` (same disk as `dest`, default its folder) so
    os.replace is atomic; on any failure (full disk, cancel, bug) it is removed and `dest` is
    left as it was."""
    dest = Path(dest)
    folder = Path(tmp_dir) if tmp_dir is not None else dest.parent
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _file_mode(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write_bytes(dest: str | os.PathLike, data: bytes, *, fsync: bool = True) -> Path:
    """Write `data` to `dest` atomically, keeping an existing file's permissions."""
    dest = Path(dest)
    mode = _file_mode(dest)
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    return dest


def atomic_write_text(dest: str | os.PathLike, text: str, *, fsync: bool = False) -> Path:
    return atomic_write_bytes(dest, text.encode("utf-8"), fsync=fsync)
