"""Atomic file writes and the error types exporters raise for problems a user can act on."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from engine.errors import StudioError, UserInputError


class ExportError(StudioError):
    """A file could not be written (no permission, disk full…); any existing file is untouched."""


def _explain(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "the folder does not exist"
    if exc.errno == errno.EISDIR:
        return "it is a folder"
    return exc.strerror or str(exc)


def _file_mode(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write next to the target, then rename: a failed write never leaves a half-written file."""
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"Cannot write {path}: it is a folder.")
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.chmod(tmp_name, _file_mode(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:
        kept = " The existing file was left unchanged." if path.exists() else ""
        raise ExportError(f"Cannot write {path}: {_explain(exc)}.{kept}") from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    return path


def read_bytes(path: str | os.PathLike) -> bytes:
    """Read a whole input file, turning OS errors into a message for the user."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise UserInputError(f"File not found: {path}") from exc
    except IsADirectoryError as exc:
        raise UserInputError(f"{path} is a folder, not a file.") from exc
    except OSError as exc:
        raise UserInputError(f"Cannot read {path}: {_explain(exc)}.") from exc
