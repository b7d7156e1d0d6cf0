"""Pictures for Point-E: safe loading of user files and the exact 256² image the 3D model sees."""

from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from engine.errors import UserInputError

log = logging.getLogger(__name__)

#: Smallest accepted side: below this there is nothing for CLIP (224 px) to see.
MIN_SIDE = 16
#: Largest accepted picture, read from the header before any pixel is decoded (a 20,000² PNG
#: of one colour is a few KB on disk and 1.6 GB in memory).
MAX_PIXELS = 50_000_000
#: Largest accepted file.
MAX_FILE_BYTES = 200 * 1024 * 1024
#: Side of the prepared picture (Point-E's example images are 256²; CLIP then takes 224²).
PREPARED_SIZE = 256
#: Fraction of the prepared square the object's larger side fills after centring.
DEFAULT_FILL = 0.8
_WHITE = (255, 255, 255)
_MASK_WORK_SIDE = 512  # background estimation runs on a copy at most this big


def load_image(source: str | os.PathLike[str] | bytes | BinaryIO) -> Image.Image:
    """Open a user's picture as a fully decoded RGB or RGBA image, upright (EXIF honoured).

    Every problem (not a picture, damaged, too small, too large, unreadable) raises
    UserInputError with a message that can be shown as is."""
    name, data = _read_source(source)
    too_large = (
        f"{name} is too large for its file size to be safe to open (a decompression bomb?). "
        "Scale it down first; 1,024 pixels is plenty."
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise UserInputError(too_large) from None
    except UnidentifiedImageError:
        raise UserInputError(
            f"{name} is not a picture Point-E Studio can read (try PNG or JPEG)."
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise UserInputError(f"{name} could not be read as a picture: {exc}.") from None
    w, h = im.size  # from the header; nothing decoded yet
    if w * h > MAX_PIXELS:
        raise UserInputError(
            f"{name} is too large: {w:,} × {h:,} pixels ({w * h / 1e6:.0f} megapixels; "
            f"the limit is {MAX_PIXELS / 1e6:.0f}). Scale it down first; 1,024 pixels is plenty."
        )
    if min(w, h) < MIN_SIDE:
        raise UserInputError(
            f"{name} is too small: {w} × {h} pixels. Use a picture at least "
            f"{MIN_SIDE} pixels on each side (256 or more works best)."
        )
    if getattr(im, "n_frames", 1) > 1:
        log.info("%s has %d frames; using the first", name, im.n_frames)
        im.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's warnings (e.g. odd EXIF) are not fatal
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            im.load()
            im = ImageOps.exif_transpose(im) or im
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UserInputError(
            f"{name} is damaged or incomplete ({exc}). Save or download it again."
        ) from None
    return _to_8bit(im, name)


def _read_source(source: str | os.PathLike[str] | bytes | BinaryIO) -> tuple[str, bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = "The picture"
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        name = path.name or str(path)
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise UserInputError(f"{path} is not a file.")
            if size > MAX_FILE_BYTES:
                raise UserInputError(
                    f"{name} is {size / 2**20:.0f} MB; pictures up to "
                    f"{MAX_FILE_BYTES // 2**20} MB are accepted."
                )
            data = path.read_bytes()
        except FileNotFoundError:
            raise UserInputError(f"Picture not found: {path}") from None
        except PermissionError:
            raise UserInputError(f"No permission to read {path}.") from None
        except OSError as exc:
            raise UserInputError(f"Could not read {path}: {exc.strerror or exc}.") from None
    elif hasattr(source, "read"):
        data = source.read(MAX_FILE_BYTES + 1)
        name = "The picture"
    else:
        raise TypeError(f"expected a path, bytes or a file object, got {type(source).__name__}")
    if not data:
        raise UserInputError(f"{name} is empty (0 bytes).")
    if len(data) > MAX_FILE_BYTES:
        raise UserInputError(f"{name} is larger than {MAX_FILE_BYTES // 2**20} MB.")
    return name, data


def _to_8bit(im: Image.Image, name: str) -> Image.Image:
    """Any Pillow mode -> RGB, or RGBA when the picture has transparency."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode != "F" and arr.max() > 255 else max(float(arr.max()), 1.0)
        if im.mode == "F":
            top = 1.0 if arr.max() <= 1.0 else top
        arr8 = np.clip(np.rint(arr / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8).convert("RGB")
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    try:
        out = im.convert("RGBA" if has_alpha else "RGB")  # CMYK, YCbCr, LAB, P, L, 1...
    except (ValueError, OSError) as exc:
        raise UserInputError(
            f"{name} uses colour mode {im.mode}, which cannot be read: {exc}."
        ) from None
    if has_alpha and out.getextrema()[3][0] == 255:
        out = out.convert("RGB")  # alpha channel present but fully opaque
    return out


@dataclass(frozen=True)
class PreparedImage:
    """The picture the 3D model sees, plus what was done to get it (for the app's preview)."""

    image: Image.Image  # RGB, PREPARED_SIZE², object centred on white
    mask: Image.Image  # L, same size: 255 = object, 0 = background (the alpha used)
    background_removed: bool  # True when a background was found and replaced by white
    note: str  # one sentence for the user about what happened


def prepare_for_pointe(img: Image.Image, *, remove_background: bool = True) -> Image.Image:
    """The exact RGB 256² picture Point-E is conditioned on: object centred on white."""
    return prepare_image(img, remove_background=remove_background).image


def prepare_image(
    img: Image.Image,
    *,
    remove_background: bool = True,
    size: int = PREPARED_SIZE,
    fill: float | None = DEFAULT_FILL,
) -> PreparedImage:
    """Flatten transparency on white, optionally remove a plain background, centre, pad, resize.

    Point-E was trained on renders of one object on white, so a photo's plain backdrop is
    replaced by white and the object is centred with `fill` of the side (None: keep scale)."""
    if not isinstance(img, Image.Image):
        raise TypeError(f"img must be a PIL image, got {type(img).__name__}")
    if not 0.1 <= (fill or 1.0) <= 1.0:
        raise ValueError(f"fill must be between 0.1 and 1, got {fill}")
    img = _to_8bit(img, "The picture")
    rgb = np.asarray(img.convert("RGB"), dtype=np.float32)  # (H, W, 3)
    alpha: np.ndarray | None = None
    removed = False
    if img.mode == "RGBA":
        alpha = np.asarray(img.getchannel("A"), dtype=np.float32) / 255.0  # (H, W)
        note = "Transparent areas were filled with white."
    elif remove_background:
        alpha, note = background_alpha(rgb, work_side=_MASK_WORK_SIDE)
        removed = alpha is not None
    else:
        note = "Background kept as is."
    if alpha is None:
        alpha = np.ones(rgb.shape[:2], np.float32)
    flat = rgb * alpha[..., None] + 255.0 * (1.0 - alpha[..., None])  # (H, W, 3) on white
    # Re-centre only when there is a background to crop; otherwise just pad to a square.
    box = _bbox(alpha > 0.5) if fill is not None and (alpha < 0.5).any() else None
    if box is None:
        box, fill = (0, 0, rgb.shape[1], rgb.shape[0]), None
    image, mask = _centre_square(flat, alpha, box, fill, size)
    return PreparedImage(image=image, mask=mask, background_removed=removed, note=note)


def _bbox(fg: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the foreground, or None when there is none."""
    rows, cols = np.flatnonzero(fg.any(axis=1)), np.flatnonzero(fg.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _centre_square(
    flat: np.ndarray,
    alpha: np.ndarray,
    box: tuple[int, int, int, int],
    fill: float | None,
    size: int,
) -> tuple[Image.Image, Image.Image]:
    """Crop to `box`, pad to a square on white (object filling `fill`), resize to size²."""
    left, top, right, bottom = box
    crop = flat[top:bottom, left:right]
    crop_a = alpha[top:bottom, left:right]
    h, w = crop.shape[:2]
    side = max(h, w) if fill is None else int(np.ceil(max(h, w) / fill))
    canvas = np.full((side, side, 3), 255.0, np.float32)
    canvas_a = np.zeros((side, side), np.float32)
    y0, x0 = (side - h) // 2, (side - w) // 2
    canvas[y0 : y0 + h, x0 : x0 + w] = crop
    canvas_a[y0 : y0 + h, x0 : x0 + w] = crop_a
    image = Image.fromarray(np.clip(np.rint(canvas), 0, 255).astype(np.uint8))
    mask = Image.fromarray(np.clip(np.rint(canvas_a * 255), 0, 255).astype(np.uint8))
    if side != size:
        image = image.resize((size, size), Image.Resampling.LANCZOS)
        mask = mask.resize((size, size), Image.Resampling.BILINEAR)
    return image, mask


def background_alpha(
    rgb: np.ndarray, *, work_side: int = _MASK_WORK_SIDE
) -> tuple[np.ndarray | None, str]:
    """Alpha (H, W) in [0, 1] of the object in front of a plain backdrop, or None and why not.

    A light method with no model to download: the backdrop is the colour of the picture's
    border; every pixel close to it and connected to the border is background (a flood fill
    from the edges), then specks are removed and holes inside the object filled."""
    from scipy import ndimage

    h, w = rgb.shape[:2]
    scale = min(1.0, work_side / max(h, w))
    small = rgb
    if scale < 1.0:
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        pil = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
        small = np.asarray(pil.resize((sw, sh), Image.Resampling.BILINEAR), dtype=np.float32)
    border = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])  # (Nb, 3)
    bg = np.median(border, axis=0)  # (3,)
    d_border = np.linalg.norm(border - bg, axis=1)
    # Tolerance follows the backdrop's own noise: flat renders get a tight threshold, photos of
    # a slightly shaded wall a wider one.
    tol = float(np.clip(3.0 * np.percentile(d_border, 60) + 12.0, 18.0, 60.0))
    if (d_border < tol).mean() < 0.6:
        return None, "Background kept: the picture's edges are not one plain colour."
    close = np.linalg.norm(small - bg, axis=2) < tol  # (h, w)
    labels, _ = ndimage.label(close)
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    background = np.isin(labels, edge[edge > 0])
    fg = ndimage.binary_opening(~background, iterations=1)
    fg = ndimage.binary_fill_holes(fg)
    parts, n = ndimage.label(fg)
    if n == 0:
        return None, "Background kept: no object stood out from it."
    sizes = ndimage.sum_labels(fg, parts, index=np.arange(1, n + 1))
    fg = np.isin(parts, np.flatnonzero(sizes >= 0.1 * sizes.max()) + 1)  # drop small specks
    fraction = float(fg.mean())
    if fraction < 0.002:
        return None, "Background kept: no object stood out from it."
    if fraction > 0.97:
        return None, "Background kept: the object fills the whole picture."
    soft = ndimage.gaussian_filter(fg.astype(np.float32), sigma=0.7)  # anti-aliased edge
    if soft.shape != (h, w):
        soft = np.asarray(
            Image.fromarray(soft).resize((w, h), Image.Resampling.BILINEAR),
            dtype=np.float32,
        )
    return np.clip(soft, 0.0, 1.0), "Background replaced by white."
