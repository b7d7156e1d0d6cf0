"""Render resources/icons/app.svg into the platform icons: app.png (Linux), app.ico, app.icns.

    python packaging/make_icons.py        # rewrites the three files next to app.svg

Qt's SVG renderer draws each size (no ImageMagick or librsvg needed); Pillow writes the .ico
(16-256 px) and the .icns (16-1024 px). The results are committed, so builds do not need this.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
ICO_SIZES = [16, 24, 32, 48, 64, 128, 256]
ICNS_SIZES = [16, 32, 64, 128, 256, 512, 1024]


def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn at size x size pixels, as PNG bytes (transparent background)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def make_icons(svg: Path = ICONS / "app.svg", out_dir: Path = ICONS) -> list[Path]:
    from PIL import Image

    big = Image.open(io.BytesIO(render_png(svg, 1024))).convert("RGBA")
    sized = {s: Image.open(io.BytesIO(render_png(svg, s))).convert("RGBA") for s in ICO_SIZES}
    png = out_dir / "app.png"
    sized[256].save(png)
    ico = out_dir / "app.ico"
    sized[256].save(ico, sizes=[(s, s) for s in ICO_SIZES], append_images=list(sized.values()))
    icns = out_dir / "app.icns"
    big.save(icns, sizes=[(s, s) for s in ICNS_SIZES])
    return [png, ico, icns]


if __name__ == "__main__":
    for path in make_icons():
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size / 1024:.0f} KB")
