"""Reading weights without ever running code from the file: safetensors, or weights-only pickles."""

from __future__ import annotations

import logging
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import CheckpointError
from engine.fileio import atomic_path

if TYPE_CHECKING:  # torch is imported on first load, keeping the Models dialog light
    import torch

log = logging.getLogger(__name__)

SAFETENSORS_SUFFIX = ".safetensors"
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
# Wrappers some tools put around a plain state dict (PointNet's "model_state_dict", Lightning).
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    import torch

    if isinstance(obj, Mapping):
        for key in _WRAPPER_KEYS:
            inner = obj.get(key)
            if (
                isinstance(inner, Mapping)
                and inner
                and all(isinstance(v, torch.Tensor) for v in inner.values())
            ):
                obj = inner
                break
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f"{path.name} does not hold a state dict (a mapping of tensors).")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(
            f"{path.name} is not a plain state dict: entry {bad[0]!r} is not a named tensor."
        )
    return dict(obj)


def load_pickle_weights(path: Path, *, mmap: bool = False) -> dict[str, torch.Tensor]:
    """Load a .pt/.bin with torch's weights-only unpickler: code in the file is refused, not run."""
    import torch

    path = Path(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise CheckpointError(f"Cannot read {path}: {exc}") from exc
    if magic != b"PK\x03\x04" and magic[:1] != b"\x80":  # torch zip, or a legacy pickle
        raise CheckpointError(
            f"{path.name} is not a PyTorch weights file (damaged, incomplete, or a web page "
            "saved in its place)."
        )
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if any(w in str(exc) for w in ("Unsupported global", "GLOBAL", "REDUCE", "BUILD")):
            raise CheckpointError(
                f"Refused {path.name}: it contains objects or code other than tensors, so it was "
                "not loaded (only plain weight files are accepted)."
            ) from exc
        raise CheckpointError(f"{path.name} is damaged or incomplete ({first}).") from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, KeyError) as exc:
        if "torchscript" in str(exc).lower():
            raise CheckpointError(
                f"Refused {path.name}: it is a TorchScript archive (program code), which cannot "
                "be loaded safely. For CLIP use open_clip's open_clip_model.safetensors instead."
            ) from exc
        if mmap:
            # Old (non-zip) torch files cannot be memory-mapped; try again reading them.
            return load_pickle_weights(path, mmap=False)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path.name} is damaged or incomplete ({first}).") from exc
    return _unwrap(obj, path)


def load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Load a safetensors file (data only by design) with a readable error if it is damaged."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path.name} is damaged or incomplete ({exc}).") from exc


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """Either format, chosen by file content (safetensors has no zip/pickle magic)."""
    path = Path(path)
    if path.suffix == SAFETENSORS_SUFFIX:
        return load_safetensors(path)
    return load_pickle_weights(path)


def read_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Key -> shape without reading the weights where the format allows (for recognising files)."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if path.suffix == SAFETENSORS_SUFFIX:
        try:
            with safe_open(str(path), framework="pt") as f:
                return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(f"{path.name} is damaged or incomplete ({exc}).") from exc
    return {k: tuple(v.shape) for k, v in load_pickle_weights(path, mmap=True).items()}


def save_safetensors(
    state_dict: Mapping[str, torch.Tensor],
    dest: Path,
    metadata: dict[str, str] | None = None,
    *,
    tmp_dir: Path | None = None,
) -> None:
    """Write atomically: a temporary file (in `tmp_dir`, same disk), then os.replace."""
    from safetensors.torch import save_file

    dest = Path(dest)
    tensors = {}
    for k, v in state_dict.items():
        v = v.detach().to("cpu").contiguous()
        if v.untyped_storage().nbytes() != v.numel() * v.element_size():
            v = v.clone()  # a view into a shared storage: safetensors wants one tensor per buffer
        tensors[k] = v
    with atomic_path(dest, tmp_dir=tmp_dir) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
