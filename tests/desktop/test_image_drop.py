"""Picture input: file, drop, paste; unreadable files get a message and change nothing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage

pytestmark = pytest.mark.gui


@pytest.fixture
def zone(qtbot, tmp_path):
    from desktop.widgets.image_drop import ImageDropZone

    widget = ImageDropZone(paste_dir=tmp_path / "pasted")
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _png(path, color=Qt.GlobalColor.red):
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(color)
    assert image.save(str(path), "PNG")
    return path


def test_real_photo_is_previewed(zone, examples_dir):
    changed = []
    zone.imageChanged.connect(changed.append)
    photo = examples_dir / "corgi.jpg"
    assert zone.set_image(photo)
    assert zone.path == photo and changed == [photo]
    assert not zone.preview.pixmap().isNull()


def test_unreadable_files_get_a_message(zone, tmp_path):
    messages = []
    zone.message.connect(messages.append)
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    assert not zone.set_image(text)
    assert not zone.set_image(tmp_path / "missing.png")
    assert zone.path is None and len(messages) == 2
    assert "notes.png" in messages[0]


def test_drop_and_paste(zone, tmp_path):
    path = _png(tmp_path / "dropped.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    zone.dropEvent(event)
    assert zone.path == path

    image = QImage(32, 32, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.blue)
    QGuiApplication.clipboard().setImage(image)
    zone.paste()
    assert zone.path is not None and zone.path.parent == tmp_path / "pasted"
    assert QImage(str(zone.path)).pixel(1, 1) == image.pixel(1, 1)
    zone.clear()
    assert zone.path is None
