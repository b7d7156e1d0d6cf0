"""Offline import: find weight files the user already has, recognise them, copy into the store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.checkpoints import safeload, structure
from engine.checkpoints.catalog import get_entry
from engine.checkpoints.download import Cancel, DownloadCancelled, is_cancelled
from engine.checkpoints.store import ModelStore
from engine.errors import CheckpointError

log = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (*safeload.PICKLE_SUFFIXES, safeload.SAFETENSORS_SUFFIX)


@dataclass(frozen=True)
class ImportItem:
    """What happened to one file: `name` is the model it was recognised as (None: not used)."""

    path: Path
    name: str | None
    installed: bool
    message: str


def find_weight_files(path: Path, store: ModelStore | None = None) -> list[Path]:
    """Weight files in `path` (a file or a folder such as point_e_model_cache or a HF cache)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise CheckpointError(f"{path} does not exist.")
    if path.is_file():
        return [path]
    skip = store.root if store else None
    found = []
    for p in sorted(path.rglob("*")):
        if p.suffix not in WEIGHT_SUFFIXES or not p.is_file():
            continue
        if skip and skip in p.resolve().parents:
            continue  # never re-import the store into itself
        found.append(p)
    return found


def import_path(
    store: ModelStore,
    path: Path | str,
    *,
    as_name: str | None = None,
    force: bool = False,
    report: Callable[[ImportItem], None] | None = None,
    cancel: Cancel = None,
) -> list[ImportItem]:
    """Import every recognised model under `path`; one ImportItem per weight file seen.

    The two 40M vector models share one architecture: the file name (or `as_name`) decides,
    and a file that cannot be told apart is reported, not guessed."""
    if as_name is not None:
        get_entry(as_name)  # unknown name: ValueError listing the known ones
    items = []
    for file in find_weight_files(Path(path), store):
        if is_cancelled(cancel):
            raise DownloadCancelled("Import cancelled.")
        item = _import_one(store, file, as_name, force)
        log.info("import %s: %s", file, item.message)
        items.append(item)
        if report:
            report(item)
    if not items:
        raise CheckpointError(f"No weight files (.pt, .pth, .bin, .safetensors) found in {path}.")
    return items


def _import_one(store: ModelStore, file: Path, as_name: str | None, force: bool) -> ImportItem:
    try:
        shapes = safeload.read_shapes(file)
    except CheckpointError as exc:
        return ImportItem(file, None, False, str(exc))
    candidates = structure.recognise(shapes, store._overrides)
    if as_name is not None and as_name not in candidates:
        problem = structure.mismatch(as_name, shapes, store.overrides_for(as_name))
        return ImportItem(file, None, False, f"is not {as_name} ({problem})")
    if not candidates:
        return ImportItem(file, None, False, f"not a known model ({len(shapes)} tensors); skipped")
    name = structure.disambiguate(candidates, file.name, as_name)
    if name is None:
        return ImportItem(
            file,
            None,
            False,
            f"could be {' or '.join(candidates)} (same architecture); rename the file to "
            "include the model name or import it with --as NAME",
        )
    if store.is_installed(name) and not force:
        return ImportItem(file, name, False, f"{name} is already installed; skipped")
    try:
        store.install_file(name, file, origin=str(file.resolve()))
    except CheckpointError as exc:
        return ImportItem(file, name, False, str(exc))
    guessed = "" if len(candidates) == 1 or as_name else " (told apart by the file name)"
    return ImportItem(file, name, True, f"installed as {name}{guessed}")
