"""Picture input: drag and drop, file dialog or paste, with a preview of the chosen picture."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QImageReader,
    QKeySequence,
    QMouseEvent,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

log = logging.getLogger(__name__)

IMAGE_FILTER = "Pictures (*.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff);;All files (*)"
MAX_PIXELS = 100_000_000  # a decompression-bomb guard before Qt decodes anything


class ImageDropZone(QFrame):
    """Emits imageChanged(path or None); problems go out as `message` text, never exceptions."""

    imageChanged = Signal(object)
    message = Signal(str)

    def __init__(self, paste_dir: Path | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("imageDropZone")
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._paste_dir = paste_dir
        self.path: Path | None = None
        self.preview = QLabel("Drop a picture here,\nclick to browse, or paste (Ctrl+V)")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(120)
        self.preview.setWordWrap(True)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        paste = QPushButton("Paste")
        paste.clicked.connect(self.paste)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        row = QHBoxLayout()
        for button in (browse, paste, self.clear_button):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.preview)
        layout.addLayout(row)
        QShortcut(
            QKeySequence.StandardKey.Paste,
            self,
            self.paste,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        self._update_buttons()

    def set_image(self, path: Path | str | None) -> bool:
        """Check the picture is readable, show it; False (and a message) when it is not."""
        if path is None:
            self.clear()
            return True
        path = Path(path)
        reader = QImageReader(str(path))
        if not path.is_file():
            self.message.emit(f"Not a file: {path}")
            return False
        if not reader.canRead():
            self.message.emit(f"Not a picture this app can read: {path.name}")
            return False
        size = reader.size()
        if size.isValid() and size.width() * size.height() > MAX_PIXELS:
            self.message.emit(f"Picture too large ({size.width()}×{size.height()}): {path.name}")
            return False
        reader.setAutoTransform(True)
        image = reader.read()
        if image.isNull():
            self.message.emit(f"Could not read {path.name}: {reader.errorString()}")
            return False
        self.path = path
        self._show(image)
        self.imageChanged.emit(path)
        return True

    def _show(self, image: QImage) -> None:
        pix = QPixmap.fromImage(image).scaled(
            220,
            160,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        self.preview.setPixmap(pix)
        self.preview.setToolTip(str(self.path))
        self._update_buttons()

    def clear(self) -> None:
        self.path = None
        self.preview.setPixmap(QPixmap())
        self.preview.setText("Drop a picture here,\nclick to browse, or paste (Ctrl+V)")
        self._update_buttons()
        self.imageChanged.emit(None)

    def browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Choose a picture", "", IMAGE_FILTER)
        if name:
            self.set_image(name)

    def paste(self) -> None:
        """A clipboard picture is saved as PNG (the pipeline reads files) or a copied file path."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and mime.hasUrls() and mime.urls()[0].isLocalFile():
            self.set_image(mime.urls()[0].toLocalFile())
            return
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            self.message.emit("The clipboard holds no picture.")
            return
        self.use_qimage(image)

    def use_qimage(self, image: QImage) -> None:
        """Save an in-memory picture as PNG in the paste folder and select it."""
        folder = self._paste_dir or Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"pasted-{time.strftime('%Y%m%d-%H%M%S')}.png"
        if not image.save(str(path), "PNG"):
            self.message.emit(f"Could not save the pasted picture to {path}")
            return
        self.set_image(path)

    def _update_buttons(self) -> None:
        self.clear_button.setEnabled(self.path is not None)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.browse()
        super().mousePressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls():
            local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if local:
                self.set_image(local[0])
                event.acceptProposedAction()
                return
        if mime.hasImage():
            self.use_qimage(QImage(mime.imageData()))
            event.acceptProposedAction()
