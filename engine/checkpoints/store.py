"""The model store: installed safetensors, their manifest, download/import/verify/remove."""

from __future__ import annotations

import errno
import logging
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.checkpoints import safeload, structure
from engine.checkpoints.catalog import ModelEntry, ModelFile, all_entries, get_entry
from engine.checkpoints.download import (
    MIRROR_HINT,
    Cancel,
    DownloadCancelled,
    Downloader,
    ProgressFn,
    is_cancelled,
    sha256_file,
)
from engine.checkpoints.settings import StoreSettings, env_mirrors, read_json, write_json
from engine.errors import CheckpointError, ModelNotInstalled
from engine.fileio import atomic_path

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
PARTIAL_DIR = ".partial"
_WEIGHT_KINDS = ("pointe", "clip")


def stored_name(served: str) -> str:
    """The file name kept in the store: pickles become safetensors, folders are kept."""
    for suffix in safeload.PICKLE_SUFFIXES:
        if served.endswith(suffix):
            return served[: -len(suffix)] + safeload.SAFETENSORS_SUFFIX
    return served


class DownloadsFailed(CheckpointError):
    """Some models of a download could not be installed; the others were.

    `installed`: names newly installed; `failed`: name -> the error (its `reason`, when it has
    one, is a few plain words). A single failure keeps that error's own message."""

    def __init__(self, installed: Sequence[str], failed: Mapping[str, CheckpointError]) -> None:
        self.installed = list(installed)
        self.failed = dict(failed)
        if len(self.failed) == 1 and not self.installed:
            message = str(next(iter(self.failed.values())))
        else:
            lines = [f"Installed: {', '.join(self.installed)}."] if self.installed else []
            lines.append(f"Could not install: {', '.join(self.failed)}.")
            texts = {name: str(exc) for name, exc in self.failed.items()}
            hint = any(MIRROR_HINT in t for t in texts.values())
            lines += [f"{n}: {t.replace(MIRROR_HINT, '').rstrip()}" for n, t in texts.items()]
            message = "\n".join(lines + ([MIRROR_HINT] if hint else []))
        super().__init__(message)

    def reason(self, name: str) -> str:
        """A short reason for `name`'s failure: the error's own, else its first sentence."""
        exc = self.failed[name]
        short = getattr(exc, "reason", "") or str(exc).split("\n", 1)[0]
        return short.split(". ", 1)[0].rstrip(".")


@dataclass(frozen=True)
class VerifyResult:
    name: str
    ok: bool
    message: str


class ModelStore:
    """One folder of installed models; all writes are atomic and all loads are safe."""

    def __init__(
        self,
        root: Path | str,
        *,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        downloader: Downloader | None = None,
    ) -> None:
        self.root = Path(root).expanduser().resolve()
        self.partial_dir = self.root / PARTIAL_DIR
        self.settings = StoreSettings(self.root / "settings.json")
        # Architecture overrides per model (reduced test models, research variants); settings
        # first, then the constructor's.
        self._overrides = {**self.settings.model_overrides, **dict(overrides or {})}
        self.downloader = downloader or Downloader(self.partial_dir)
        self._lock = threading.RLock()

    # -- manifest ---------------------------------------------------------------------------
    def _manifest(self) -> dict[str, Any]:
        data = read_json(self.root / MANIFEST_FILE, {})
        data.setdefault("models", {})
        data.setdefault("known_sources", {})
        return data

    def _update_manifest(self, fn) -> None:
        with self._lock:
            data = self._manifest()
            fn(data)
            write_json(self.root / MANIFEST_FILE, data)

    def overrides_for(self, name: str) -> dict[str, Any]:
        return dict(self._overrides.get(name, {}))

    # -- queries ----------------------------------------------------------------------------
    def model_dir(self, name: str) -> Path:
        return self.root / name

    def model_path(self, name: str) -> Path:
        """The weights file of `name` (its first catalogue file) inside the store."""
        entry = get_entry(name)
        if not entry.files:
            raise ModelNotInstalled([name], f"{name} has no downloadable files yet.")
        return self.model_dir(name) / stored_name(entry.files[0].filename)

    def is_installed(self, name: str) -> bool:
        entry = get_entry(name)
        record = self._manifest()["models"].get(name)
        if not entry.files or not record:
            return False
        served = {f["served"] for f in record["files"]}
        return all(f.filename in served for f in entry.files) and all(
            (self.model_dir(name) / f["stored"]).is_file() for f in record["files"]
        )

    def installed_names(self) -> list[str]:
        return [e.name for e in all_entries() if self.is_installed(e.name)]

    def installed_size(self, name: str) -> int:
        record = self._manifest()["models"].get(name) or {"files": []}
        return sum(f.get("size", 0) for f in record["files"])

    def mirrors_for(self, file: ModelFile) -> list[str]:
        """Base URLs in the order tried: $POINTE_MIRROR_URL, extra mirrors, the file's list."""
        own = self.settings.mirrors.get(file.filename) or list(file.mirrors)
        seen: list[str] = []
        for url in [*env_mirrors(), *self.settings.extra_mirrors, *own]:
            if url not in seen:
                seen.append(url)
        return seen

    # -- loading ----------------------------------------------------------------------------
    def load_state_dict(self, name: str) -> dict[str, torch.Tensor]:
        """The installed weights of `name`, structure checked against the engine's config."""
        if not self.is_installed(name):
            raise ModelNotInstalled([name])
        path = self.model_path(name)
        state_dict = safeload.load_safetensors(path)
        shapes = {k: tuple(v.shape) for k, v in state_dict.items()}
        structure.check_structure(
            name, shapes, file_label=str(path), overrides=self.overrides_for(name)
        )
        return state_dict

    # -- installing -------------------------------------------------------------------------
    def install_file(
        self,
        name: str,
        source: Path,
        *,
        file: ModelFile | None = None,
        origin: str,
        source_sha256: str | None = None,
    ) -> Path:
        """Check `source` (safely), convert pickles to safetensors and move it into the store.

        Nothing is written inside the model's folder until the file has passed every check."""
        entry = get_entry(name)
        file = file or entry.files[0]
        source = Path(source)
        dest = self.model_dir(name) / stored_name(file.filename)
        self.partial_dir.mkdir(parents=True, exist_ok=True)
        is_weights = file is entry.files[0] and entry.kind in _WEIGHT_KINDS
        convert = source.suffix in safeload.PICKLE_SUFFIXES
        state_dict = None
        if is_weights or convert:
            state_dict = safeload.load_weights(source)
            if is_weights:
                structure.check_structure(
                    name,
                    {k: tuple(v.shape) for k, v in state_dict.items()},
                    file_label=source.name,
                    overrides=self.overrides_for(name),
                )
        created = not dest.parent.exists()
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            if state_dict is not None:
                meta = {"model": name, "source": file.filename}
                safeload.save_safetensors(state_dict, dest, meta, tmp_dir=self.partial_dir)
            else:
                with atomic_path(dest, tmp_dir=self.partial_dir) as tmp:
                    shutil.copyfile(source, tmp)
        except OSError as exc:
            if created:
                shutil.rmtree(dest.parent, ignore_errors=True)
            full = exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
            raise CheckpointError(
                f"Could not save {name} into {self.root}: "
                + ("the disk is full. Free some space and try again." if full else str(exc))
            ) from exc
        del state_dict
        digest = sha256_file(dest)
        size = dest.stat().st_size
        src_sha = source_sha256 or sha256_file(source)
        src_size = source.stat().st_size

        def record(data: dict[str, Any]) -> None:
            model = data["models"].setdefault(name, {"files": []})
            model["files"] = [f for f in model["files"] if f["served"] != file.filename]
            model["files"].append(
                {
                    "served": file.filename,
                    "stored": dest.relative_to(self.model_dir(name)).as_posix(),
                    "sha256": digest,
                    "size": size,
                    "source": {"sha256": src_sha, "size": src_size, "origin": origin},
                }
            )
            model["installed_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
            if origin.startswith(("http://", "https://")):
                data["known_sources"].setdefault(
                    file.filename, {"sha256": src_sha, "size": src_size}
                )

        self._update_manifest(record)
        log.info("installed %s (%s) from %s", name, dest.name, origin)
        return dest

    def download(
        self,
        names: Sequence[str],
        *,
        progress: ProgressFn | None = None,
        cancel: Cancel = None,
        force: bool = False,
    ) -> list[str]:
        """Download, verify and install models in order; returns the names newly installed.

        One model failing does not stop the others: every one is tried, then DownloadsFailed
        names what was installed and what failed and why. Cancel stops at once."""
        entries = [get_entry(n) for n in dict.fromkeys(names)]
        for entry in entries:
            if not entry.files:
                raise CheckpointError(f"{entry.name} cannot be downloaded yet: {entry.purpose}.")
        done: list[str] = []
        failed: dict[str, CheckpointError] = {}
        for entry in entries:
            if self.is_installed(entry.name) and not force:
                continue
            try:
                for file in entry.files:
                    self._download_file(entry, file, progress, cancel)
            except CheckpointError as exc:
                log.info("download of %s failed: %s", entry.name, exc)
                failed[entry.name] = exc
                continue
            done.append(entry.name)
        if failed:
            raise DownloadsFailed(done, failed) from next(iter(failed.values()))
        return done

    def _download_file(self, entry: ModelEntry, file: ModelFile, progress, cancel) -> None:
        known = self._manifest()["known_sources"].get(file.filename, {})
        sha = file.sha256 or known.get("sha256")
        size = known.get("size") if sha and not file.sha256 else file.size
        # Room for the stored copy too: pickles are converted, weights re-saved after checks.
        convert = file.filename.endswith(safeload.PICKLE_SUFFIXES) or entry.kind in _WEIGHT_KINDS
        path, digest, url = self.downloader.fetch(
            file.filename,
            self.mirrors_for(file),
            label=entry.name,
            expected_size=size if sha else None,
            sha256=sha,
            extra_space=file.size if convert else 0,
            progress=progress,
            cancel=cancel,
        )
        try:
            if is_cancelled(cancel):
                raise DownloadCancelled(f"Download of {entry.name} cancelled.")
            self.install_file(entry.name, path, file=file, origin=url, source_sha256=digest)
        finally:
            path.unlink(missing_ok=True)  # the verified original is not kept after conversion

    # -- maintenance ------------------------------------------------------------------------
    def remove(self, name: str) -> None:
        """Delete an installed model (its recorded source hash is kept for later downloads)."""
        get_entry(name)
        folder = self.model_dir(name)
        if folder.exists():
            shutil.rmtree(folder)
        self._update_manifest(lambda data: data["models"].pop(name, None))

    def verify(
        self, names: Sequence[str] | None = None, cancel: Cancel = None
    ) -> list[VerifyResult]:
        """Re-hash every installed file against the manifest and re-check its structure."""
        results = []
        for name in names or self.installed_names():
            record = self._manifest()["models"].get(name)
            if not record:
                results.append(VerifyResult(name, False, "not installed"))
                continue
            problem = None
            for f in record["files"]:
                path = self.model_dir(name) / f["stored"]
                if not path.is_file():
                    problem = f"{path.name} is missing"
                elif path.stat().st_size != f["size"] or sha256_file(path, cancel) != f["sha256"]:
                    problem = f"{path.name} changed on disk (SHA-256 or size differs)"
                if problem:
                    break
            if problem is None:
                try:
                    self.load_state_dict(name) if get_entry(name).kind in _WEIGHT_KINDS else None
                except CheckpointError as exc:
                    problem = str(exc)
            results.append(
                VerifyResult(
                    name,
                    problem is None,
                    problem + f"; download it again: `python main.py models download {name}`"
                    if problem
                    else "ok",
                )
            )
        return results
