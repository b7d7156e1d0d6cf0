"""Loading user pictures safely and preparing the exact image Point-E sees."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import UserInputError
from engine.imageprep import (
    MAX_PIXELS,
    PREPARED_SIZE,
    load_image,
    prepare_for_pointe,
    prepare_image,
)


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _png(width: int, height: int, depth: int, color_type: int, raw_rows: bytes) -> bytes:
    """A PNG written by hand, so headers can claim any size and any bit depth."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(raw_rows))
        + _png_chunk(b"IEND", b"")
    )


# -- load_image: every bad case gets a clear message -----------------------------------------------


def test_not_an_image(tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("hello, this is not a picture")
    with pytest.raises(UserInputError, match="not a picture"):
        load_image(text)
    with pytest.raises(UserInputError, match="not a picture"):
        load_image(b"GIF89a but not really")


def test_missing_empty_and_folder(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="not found"):
        load_image(tmp_path / "nope.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(UserInputError, match="empty"):
        load_image(tmp_path / "empty.jpg")
    with pytest.raises(UserInputError, match="not a file"):
        load_image(tmp_path)


def test_truncated_jpeg() -> None:
    rng = np.random.default_rng(0)
    full = _encode(Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)), "JPEG")
    with pytest.raises(UserInputError, match="damaged or incomplete"):
        load_image(full[: len(full) // 2])


@pytest.mark.parametrize("size", [(1, 1), (300, 8)])
def test_too_small(size: tuple[int, int]) -> None:
    with pytest.raises(UserInputError, match=rf"too small: {size[0]} × {size[1]}"):
        load_image(_encode(Image.new("RGB", size, "red"), "PNG"))


@pytest.mark.parametrize("side", [20_000, 9_000])  # above Pillow's own limit, and only ours
def test_decompression_bomb_refused_from_the_header(side: int) -> None:
    # The header claims side² pixels; the data is 2 rows. Decoding would need gigabytes.
    bomb = _png(side, side, 8, 0, b"\x00" * (side + 1) * 2)
    with pytest.raises(UserInputError, match="too large") as info:
        load_image(bomb)
    assert side * side > MAX_PIXELS
    assert "Scale it down" in str(info.value)


def test_cmyk_jpeg_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # pure red in CMYK
    im = load_image(_encode(cmyk, "JPEG", quality=95))
    assert im.mode == "RGB"
    r, g, b = np.asarray(im)[16, 16].astype(int)
    assert r > 230 and g < 30 and b < 30


def test_16bit_grey_png_scaled_to_8bit() -> None:
    ramp = (np.arange(64, dtype=np.uint16)[None, :].repeat(32, 0) * 1040).astype(np.uint16)
    im = load_image(_encode(Image.fromarray(ramp), "PNG"))
    arr = np.asarray(im)
    assert im.mode == "RGB" and arr.dtype == np.uint8
    row = arr[0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == round(63 * 1040 / 65535 * 255)
    assert np.all(np.diff(row) >= 0) and len(set(row.tolist())) > 50  # not crushed to 0/255


def test_16bit_rgb_png() -> None:
    px = struct.pack(">HHH", 65535, 32768, 0)  # orange at 16 bits per channel
    rows = b"".join(b"\x00" + px * 20 for _ in range(20))
    im = load_image(_png(20, 20, 16, 2, rows))
    assert im.mode == "RGB"
    np.testing.assert_allclose(np.asarray(im)[5, 5], [255, 128, 0], atol=1)


def test_palette_png_with_transparency_flattens_on_white() -> None:
    pal = Image.new("P", (40, 40), 0)
    pal.putpalette([0, 0, 255, 0, 200, 0] + [0] * 762)  # 0: blue (transparent), 1: green
    pal.paste(1, (10, 10, 30, 30))
    im = load_image(_encode(pal, "PNG", transparency=0))
    assert im.mode == "RGBA"
    assert im.getpixel((0, 0))[3] == 0 and im.getpixel((20, 20)) == (0, 200, 0, 255)
    out = np.asarray(prepare_for_pointe(im))
    assert tuple(out[2, 2]) == (255, 255, 255)  # the transparent blue is white, not blue
    assert tuple(out[128, 128]) == (0, 200, 0)


def test_animated_gif_uses_first_frame() -> None:
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    im = load_image(data)
    r, _, b = im.convert("RGB").getpixel((16, 16))
    assert r > 200 and b < 50


def test_exif_rotation_is_honoured(tmp_path: Path) -> None:
    stored = Image.new("RGB", (40, 20), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 20, 20))  # left half red as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "phone.jpg"
    stored.save(path, exif=exif, quality=95)
    im = load_image(path)
    assert im.size == (20, 40)
    top, bottom = np.asarray(im)[5, 10].astype(int), np.asarray(im)[35, 10].astype(int)
    assert top[0] > 200 and top[2] < 60  # red on top after the rotation
    assert bottom[2] > 200 and bottom[0] < 60


def test_file_object_and_path_give_the_same_pixels(tmp_path: Path) -> None:
    im = Image.new("RGB", (30, 20), (10, 20, 30))
    path = tmp_path / "a.png"
    im.save(path)
    with path.open("rb") as fh:
        a = load_image(fh)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(load_image(str(path))))


# -- prepare_image --------------------------------------------------------------------------------


def _photo_with_disc(seed: int = 0) -> tuple[Image.Image, np.ndarray]:
    """A 'photo': a slightly noisy grey-blue wall with a red disc off centre."""
    rng = np.random.default_rng(seed)
    h, w = 120, 160
    arr = np.empty((h, w, 3), np.float32)
    arr[:] = (120, 130, 140)
    arr += rng.normal(0, 3, arr.shape)
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - 50) ** 2 + (xx - 100) ** 2 <= 25**2
    arr[disc] = np.array([200, 30, 30]) + rng.normal(0, 3, (int(disc.sum()), 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), disc


def test_plain_background_replaced_and_object_centred() -> None:
    img, _ = _photo_with_disc()
    prep = prepare_image(img)
    out = np.asarray(prep.image).astype(int)
    mask = np.asarray(prep.mask) > 127
    assert prep.image.size == (PREPARED_SIZE, PREPARED_SIZE) and prep.image.mode == "RGB"
    assert prep.background_removed and "white" in prep.note
    assert (out[:10, :10] >= 250).all()  # wall is now white
    ys, xs = np.nonzero(mask)
    assert abs(ys.mean() - 128) < 3 and abs(xs.mean() - 128) < 3  # centred
    extent = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
    assert abs(extent - 0.8 * PREPARED_SIZE) < 6  # fills 80 % of the side
    # The disc is a disc: the mask is round and the object keeps its colour.
    area = mask.sum()
    assert abs(area - np.pi * (extent / 2) ** 2) < 0.05 * area
    r, g, b = out[128, 128]
    assert r > 180 and g < 60 and b < 60


def test_busy_background_is_kept_and_padded() -> None:
    rng = np.random.default_rng(1)
    img = Image.fromarray(rng.integers(0, 256, (60, 100, 3), dtype=np.uint8))
    prep = prepare_image(img)
    assert not prep.background_removed and "kept" in prep.note
    out = np.asarray(prep.image)
    assert out.shape == (256, 256, 3)
    assert (out[:40] == 255).all() and (out[-40:] == 255).all()  # padded to a square on white
    assert out[128].std() > 30  # the picture itself is still there


def test_remove_background_off_keeps_the_wall() -> None:
    img, _ = _photo_with_disc()
    out = np.asarray(prepare_for_pointe(img, remove_background=False)).astype(int)
    assert abs(out[128, 5] - np.array([120, 130, 140])).max() < 15  # wall still there
    assert (out[:20] >= 254).all()  # 160x120 padded top and bottom with white


def test_prepare_rejects_non_images() -> None:
    with pytest.raises(TypeError, match="PIL"):
        prepare_for_pointe(np.zeros((8, 8, 3)))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["corgi.jpg", "cube_stack.jpg"])
def test_examples_through_preparation_and_clip(
    name: str, examples_dir: Path, artifacts_dir: Path
) -> None:
    import torch

    from engine.models.clip import FrozenCLIP
    from tests.engine.tiny_models import tiny_open_clip

    prep = prepare_image(load_image(examples_dir / name))
    stem = Path(name).stem
    prep.image.save(artifacts_dir / f"prepared_{stem}.png")
    prep.mask.save(artifacts_dir / f"prepared_{stem}_mask.png")
    out = np.asarray(prep.image).astype(int)
    mask = np.asarray(prep.mask) > 127
    assert prep.image.size == (256, 256)
    assert (out[:4, :4] >= 250).all() and (out[-4:, -4:] >= 250).all()
    assert 0.1 < mask.mean() < 0.8  # an object was found, not the whole frame
    ys, xs = np.nonzero(mask)
    assert abs((ys.min() + ys.max()) / 2 - 128) < 4 and abs((xs.min() + xs.max()) / 2 - 128) < 4
    # the object keeps its colours: corgi is orange-brown, the cube stack red and blue
    fg = out[mask]
    if stem == "corgi":
        assert ((fg[:, 0] - fg[:, 2]) > 60).mean() > 0.3  # brown/orange fur
    else:
        assert ((fg[:, 2] > 150) & (fg[:, 0] < 80)).mean() > 0.3
        assert ((fg[:, 0] > 150) & (fg[:, 2] < 80)).mean() > 0.05

    clip = FrozenCLIP(tiny_open_clip())
    pixels = clip.preprocess([prep.image])
    assert pixels.shape == (1, 3, 224, 224) and pixels.dtype == torch.float32
    # white background -> (1 - mean) / std in every channel at the corner
    want = (1 - torch.tensor([0.48145466, 0.4578275, 0.40821073])) / torch.tensor(
        [0.26862954, 0.26130258, 0.27577711]
    )
    torch.testing.assert_close(pixels[0, :, 0, 0], want, atol=0.02, rtol=0)
    assert clip.embed_images_grid([prep.image]).shape == (1, 32, 256)
