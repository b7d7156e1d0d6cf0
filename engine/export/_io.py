"""Atomic file writes and the error types exporters raise for problems a user can act on."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from engine import fileio
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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """engine.fileio's atomic write, with OS errors turned into a message for the user."""
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"Cannot write {path}: it is a folder.")
    try:
        return fileio.atomic_write_bytes(path, data)
    except OSError as exc:
        kept = " The existing file was left unchanged." if path.exists() else ""
        raise ExportError(f"Cannot write {path}: {_explain(exc)}.{kept}") from exc


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
