"""Resumable, verified, cancellable HTTP downloads that survive dropped connections and mirrors."""

from __future__ import annotations

import errno
import http.client
import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.checkpoints.files import (
    Cancel,
    DownloadCancelled,
    check_free_space,
    file_lock,
    human_size,
    is_cancelled,
    sha256_file,
)
from engine.errors import CheckpointError

__all__ = [
    "MIRROR_HINT",
    "Cancel",
    "DownloadCancelled",
    "DownloadFailed",
    "DownloadProgress",
    "Downloader",
    "check_free_space",
    "file_lock",
    "human_size",
    "is_cancelled",
    "sha256_file",
]

log = logging.getLogger(__name__)

USER_AGENT = "PointeStudio/0.1 (+model downloader)"


@dataclass(frozen=True)
class DownloadProgress:
    """One progress report; `message` is set for events worth showing (resume, restart, retry)."""

    label: str  # model name (or file name) being fetched
    filename: str  # file on the server
    done: int  # bytes on disk so far
    total: int | None  # bytes in the whole file, when the server says
    speed: float  # bytes per second, smoothed
    eta: float | None  # seconds left at the current speed
    url: str  # mirror in use
    message: str = ""

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


ProgressFn = Callable[[DownloadProgress], None]


#: Where a user sets a mirror or brings their own files (the Models window's buttons).
MIRROR_HINT = (
    "Check the internet connection. Set a download mirror in Models → Download mirror, "
    "or import files you already have with Import file…"
)


class DownloadFailed(CheckpointError):
    """No mirror could deliver a file; `reason` is a few plain words for a status column."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _plain_http(text: str) -> str:
    """A permanent HTTP failure in plain words (the code kept for whoever asks for help)."""
    code = text.split()[1] if text.startswith("HTTP ") and len(text.split()) > 1 else ""
    if code == "404":
        return "not on the server (HTTP 404)"
    if code in ("401", "403"):
        return f"the server refused access (HTTP {code})"
    return f"the server refused ({text})"


def _plain_transient(text: str) -> str:
    if text.startswith("HTTP "):
        return f"the server is busy or failing ({text})"
    if "dropped" in text:
        return "the connection kept dropping"
    return "could not connect to the server"


def _short_reason(reasons: Sequence[str]) -> str:
    """One reason for the whole file: the shared one, else the last mirror's."""
    if not reasons:
        return "no address worked"
    if len(set(reasons)) == 1:
        return reasons[0]
    return f"no address worked (last: {reasons[-1]})"


class _Permanent(Exception):
    """This mirror cannot serve the file (404, 403...): go to the next mirror."""


class _Transient(Exception):
    """Worth retrying the same mirror after a pause."""


class _Restart(_Transient):
    """The partial file was thrown away (remote file changed): retry at once, from zero."""


def _sleep(seconds: float, cancel: Cancel) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if is_cancelled(cancel):
            return
        time.sleep(min(left, 0.05))


def _open_opener() -> urllib.request.OpenerDirector:
    # build_opener installs ProxyHandler, which reads http_proxy/https_proxy/no_proxy.
    return urllib.request.build_opener()


@dataclass
class _State:
    """What we knew about the remote file when the partial was written (kept in <part>.json)."""

    total: int | None = None
    etag: str | None = None
    last_modified: str | None = None

    def same_as(self, other: _State) -> bool:
        if self.total is not None and other.total is not None and self.total != other.total:
            return False
        if self.etag and other.etag and self.etag != other.etag:
            return False
        return not (
            self.last_modified and other.last_modified and self.last_modified != other.last_modified
        )


class Downloader:
    """Fetches one file at a time into `partial_dir`, resuming what an earlier attempt left."""

    def __init__(
        self,
        partial_dir: Path,
        *,
        retries: int = 4,
        backoff: float = 1.0,
        timeout: float = 30.0,
        chunk_size: int = 1 << 20,
        progress_interval: float = 0.1,
    ) -> None:
        self.partial_dir = Path(partial_dir)
        self.retries = retries  # retries per mirror after the first attempt
        self.backoff = backoff  # first pause in seconds; doubled after every failure
        self.timeout = timeout  # seconds without data before a connection counts as dropped
        self.chunk_size = chunk_size
        self.progress_interval = progress_interval

    def fetch(
        self,
        filename: str,
        urls: Sequence[str],
        *,
        label: str | None = None,
        expected_size: int | None = None,
        sha256: str | None = None,
        extra_space: int = 0,
        progress: ProgressFn | None = None,
        cancel: Cancel = None,
    ) -> tuple[Path, str, str]:
        """Download to `<partial_dir>/<file>`; return (path, sha256, url) once complete, verified.

        `expected_size`/`sha256`, when known, must match; a file that fails them is deleted and
        the next mirror tried. Cancel and disk-full remove the partial file; other failures keep
        it so the next call resumes."""
        if not urls:
            raise CheckpointError(f"No download address is configured for {filename}.")
        self.partial_dir.mkdir(parents=True, exist_ok=True)
        base = filename.replace("/", "__")
        part = self.partial_dir / f"{base}.part"
        done_path = self.partial_dir / base
        label = label or filename
        with file_lock(self.partial_dir / f"{base}.lock", label):
            try:
                return self._fetch_locked(
                    filename,
                    urls,
                    part,
                    done_path,
                    label,
                    expected_size,
                    sha256,
                    extra_space,
                    progress,
                    cancel,
                )
            except DownloadCancelled:
                self.discard(part)
                raise
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
                    self.discard(part)
                    raise CheckpointError(
                        f"The disk is full: {label} could not be saved. The partial file was "
                        "removed; free some space and download again."
                    ) from exc
                raise CheckpointError(f"Could not write {part}: {exc}") from exc

    @staticmethod
    def discard(part: Path) -> None:
        part.unlink(missing_ok=True)
        part.with_name(part.name + ".json").unlink(missing_ok=True)

    def _fetch_locked(
        self,
        filename,
        urls,
        part,
        done_path,
        label,
        expected_size,
        sha256,
        extra_space,
        progress,
        cancel,
    ) -> tuple[Path, str, str]:
        errors: list[str] = []
        reasons: list[str] = []  # one plain-words reason per mirror, for the short summary
        for base_url in urls:
            url = base_url if base_url.endswith(filename) else base_url.rstrip("/") + "/" + filename
            pause = self.backoff
            for attempt in range(self.retries + 1):
                if is_cancelled(cancel):
                    raise DownloadCancelled(f"Download of {label} cancelled.")
                try:
                    self._attempt(
                        url, filename, part, label, expected_size, extra_space, progress, cancel
                    )
                except _Permanent as exc:
                    errors.append(f"{url}: {exc}")
                    reasons.append(_plain_http(str(exc)))
                    break
                except _Transient as exc:
                    log.info(
                        "download of %s from %s failed (%s), attempt %d",
                        label,
                        url,
                        exc,
                        attempt + 1,
                    )
                    if attempt == self.retries:
                        errors.append(f"{url}: {exc} (gave up after {attempt + 1} attempts)")
                        reasons.append(_plain_transient(str(exc)))
                        break
                    if isinstance(exc, _Restart):
                        continue
                    self._report(
                        progress,
                        label,
                        filename,
                        part,
                        None,
                        0.0,
                        url,
                        f"connection problem ({exc}); retrying in {pause:.0f} s",
                    )
                    _sleep(pause, cancel)
                    pause *= 2
                    continue
                digest = sha256_file(part, cancel)
                problem = self._verify(part, digest, expected_size, sha256)
                if problem:
                    errors.append(f"{url}: {problem}")
                    reasons.append("the file that arrived was damaged or different")
                    self.discard(part)
                    break
                part.with_name(part.name + ".json").unlink(missing_ok=True)
                os.replace(part, done_path)
                return done_path, digest, url
        reason = _short_reason(reasons)
        raise DownloadFailed(
            f"Could not download {label}: {reason}.\nTried:\n  "
            + "\n  ".join(errors)
            + "\n"
            + MIRROR_HINT,
            reason=reason,
        )

    @staticmethod
    def _verify(part: Path, digest: str, size: int | None, sha256: str | None) -> str | None:
        have = part.stat().st_size
        if size is not None and sha256 and have != size:
            return f"size {have} bytes, expected {size}"
        if sha256 and digest != sha256.lower():
            return "SHA-256 does not match the known value (corrupted or different file)"
        return None

    def _report(self, progress, label, filename, part, total, speed, url, message="") -> None:
        if progress is None:
            return
        done = part.stat().st_size if part.exists() else 0
        if total is None:
            try:
                total = json.loads(part.with_name(part.name + ".json").read_text()).get("total")
            except (OSError, ValueError, AttributeError):
                total = None
        eta = (total - done) / speed if total and speed > 0 else None
        progress(DownloadProgress(label, filename, done, total, speed, eta, url, message))

    def _attempt(self, url, filename, part, label, expected_size, extra_space, progress, cancel):
        meta_path = part.with_name(part.name + ".json")
        known = _State()
        offset = 0
        if part.exists():
            try:
                known = _State(**json.loads(meta_path.read_text()))
                offset = part.stat().st_size
            except (OSError, ValueError, TypeError):
                self.discard(part)  # a partial whose origin we do not know cannot be trusted
        if offset and known.total == offset:
            return  # complete already (stopped between the last byte and the rename)
        need = (known.total or expected_size or 0) - offset + extra_space
        check_free_space(self.partial_dir, max(need, 0))

        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if known.etag and not known.etag.startswith("W/"):
                headers["If-Range"] = known.etag
            elif known.last_modified:
                headers["If-Range"] = known.last_modified
        try:
            response = _open_opener().open(
                urllib.request.Request(url, headers=headers), timeout=self.timeout
            )
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416 and offset:
                self.discard(part)  # our partial no longer fits the file: start over
                raise _Restart("server refused the resume point; starting over") from exc
            if exc.code in (408, 425, 429) or exc.code >= 500:
                raise _Transient(f"HTTP {exc.code}") from exc
            raise _Permanent(f"HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Transient(str(reason) or type(exc).__name__) from exc

        with response:
            remote = _State(
                total=None,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
            length = response.headers.get("Content-Length")
            if response.status == 206:
                match = re.match(
                    r"bytes (\d+)-(\d+)/(\d+|\*)", response.headers.get("Content-Range", "")
                )
                start = int(match.group(1)) if match else -1
                remote.total = int(match.group(3)) if match and match.group(3) != "*" else None
                if start != offset or not known.same_as(remote):
                    self.discard(part)
                    message = f"{filename} changed on the server since the last attempt"
                    self._report(
                        progress,
                        label,
                        filename,
                        part,
                        remote.total,
                        0.0,
                        url,
                        message + "; starting again",
                    )
                    raise _Restart(message)
                message = f"resuming at {human_size(offset)}"
            else:
                remote.total = int(length) if length and length.isdigit() else None
                message = ""
                if offset:
                    changed = not known.same_as(remote)
                    message = (
                        (f"{filename} changed on the server since the last attempt; starting again")
                        if changed
                        else ("server does not support resuming; downloading the whole file")
                    )
                    offset = 0
            if remote.total is not None:
                check_free_space(self.partial_dir, remote.total - offset + extra_space)
            meta_path.write_text(json.dumps(remote.__dict__))
            self._stream(
                response,
                part,
                offset,
                remote.total,
                label,
                filename,
                url,
                message,
                progress,
                cancel,
            )

    def _stream(
        self, response, part, offset, total, label, filename, url, message, progress, cancel
    ) -> None:
        done = offset
        speed = 0.0
        window_start, window_bytes = time.monotonic(), 0
        last_report = 0.0
        if progress and message:
            progress(DownloadProgress(label, filename, offset, total, 0.0, None, url, message))
        with open(part, "r+b" if offset else "wb") as f:
            f.seek(offset)
            f.truncate()
            while True:
                if is_cancelled(cancel):
                    raise DownloadCancelled(f"Download of {label} cancelled.")
                try:
                    chunk = response.read(self.chunk_size)
                except (http.client.HTTPException, OSError) as exc:
                    raise _Transient(f"connection dropped at {human_size(done)}") from exc
                if not chunk:
                    break
                f.write(chunk)
                done += len(chunk)
                window_bytes += len(chunk)
                now = time.monotonic()
                if now - window_start >= 0.5:
                    rate = window_bytes / (now - window_start)
                    speed = rate if speed == 0 else 0.7 * speed + 0.3 * rate
                    window_start, window_bytes = now, 0
                if progress and now - last_report >= self.progress_interval:
                    last_report = now
                    f.flush()
                    eta = (total - done) / speed if total and speed > 0 else None
                    progress(DownloadProgress(label, filename, done, total, speed, eta, url))
        if total is not None and done < total:
            raise _Transient(f"connection dropped at {human_size(done)} of {human_size(total)}")
        if progress:
            progress(DownloadProgress(label, filename, done, total or done, speed, 0.0, url))
