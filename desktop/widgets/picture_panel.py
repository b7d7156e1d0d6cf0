"""The picture the 3D model will lift: drawn or chosen, as prepared for Point-E, and its actions."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.widgets.image_drop import IMAGE_FILTER

log = logging.getLogger(__name__)

PREVIEW_SIDE = 128  # two previews side by side fit the 340 px side panel
NO_PICTURE = "No picture yet: Generate draws one first, or load your own with Replace…"


def elide_middle(text: str, limit: int = 36) -> str:
    """A long file name or path shortened in the middle, so a narrow panel can wrap around it."""
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[: keep - keep // 2] + "…" + text[-(keep // 2) :]


def pil_to_qimage(picture) -> QImage:
    """A Qt copy of a PIL picture (RGB; transparency shown on white as Point-E sees it)."""
    from PIL import Image

    if picture.mode != "RGB":
        flat = Image.new("RGB", picture.size, (255, 255, 255))
        rgba = picture.convert("RGBA")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        picture = flat
    w, h = picture.size
    data = picture.tobytes()
    return QImage(data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class PicturePanel(QGroupBox):
    """Holds the current picture (PIL) and its preparation; problems go out as `message`."""

    redrawRequested = Signal()
    continueRequested = Signal()
    pictureChanged = Signal()
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Picture", parent)
        self.setObjectName("picturePanel")
        self.setAcceptDrops(True)
        self.picture = None  # PIL image the 3D stages will see (before preparation)
        self.prepared = None  # engine.imageprep.PreparedImage of `picture`
        self.prompt = ""  # the prompt the picture was drawn for ("" for a loaded file)
        self.source = ""  # "drawn" or the path of the loaded file
        self._interactive = True
        self._running = False

        self.picture_view = self._view(NO_PICTURE, "The picture drawn from your prompt")
        self.prepared_view = self._view("", "Exactly what the 3D model sees (256 × 256)")
        self.picture_caption = QLabel("Picture")
        self.prepared_caption = QLabel("What the 3D model sees")
        for caption in (self.picture_caption, self.prepared_caption):
            caption.setWordWrap(True)
            caption.setMaximumWidth(PREVIEW_SIDE)
            caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        grid = QGridLayout()
        grid.addWidget(self.picture_caption, 0, 0)
        grid.addWidget(self.prepared_caption, 0, 1)
        grid.addWidget(self.picture_view, 1, 0)
        grid.addWidget(self.prepared_view, 1, 1)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setObjectName("hint")
        self.remove_background = QCheckBox("Plain background → white")
        self.remove_background.setChecked(True)
        self.remove_background.setToolTip(
            "Point-E was trained on objects on white: a plain backdrop is found from the "
            "picture's edges and replaced (no download needed)"
        )
        self.remove_background.toggled.connect(self._reprepare)
        self.redraw = QPushButton("New picture")
        self.redraw.setToolTip("Draw only the picture again, with a new seed; no 3D yet")
        self.redraw.clicked.connect(self.redrawRequested)
        self.replace = QPushButton("Replace…")
        self.replace.setToolTip("Use another picture file (e.g. one you edited); or drop one here")
        self.replace.clicked.connect(self.browse)
        self.continue_button = QPushButton("Continue to 3D")
        self.continue_button.setObjectName("continueButton")
        self.continue_button.setToolTip("Lift this picture into 3D (Image → 3D)")
        self.continue_button.clicked.connect(self.continueRequested)
        buttons = QHBoxLayout()  # two short buttons, then the next step on its own row
        buttons.addWidget(self.redraw)
        buttons.addWidget(self.replace)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        layout.addWidget(self.remove_background)
        layout.addLayout(buttons)
        layout.addWidget(self.continue_button)
        self._update_buttons()

    def _view(self, text: str, tip: str) -> QLabel:
        label = QLabel(text)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        label.setFixedSize(PREVIEW_SIDE, PREVIEW_SIDE)
        label.setFrameShape(QLabel.Shape.StyledPanel)
        label.setToolTip(tip)
        return label

    # ---- state ------------------------------------------------------------------------------
    def set_interactive(self, interactive: bool) -> None:
        """Text → Image → 3D: redraw/replace/continue; Image → 3D: the preview only."""
        self._interactive = interactive
        self.picture_caption.setVisible(interactive)
        self.picture_view.setVisible(interactive)
        for button in (self.redraw, self.replace, self.continue_button):
            button.setVisible(interactive)
        self._update_buttons()

    def set_running(self, running: bool) -> None:
        self._running = running
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = not self._running
        self.redraw.setEnabled(idle)
        self.replace.setEnabled(idle)
        self.continue_button.setEnabled(idle and self.picture is not None)

    def begin_drawing(self) -> None:
        self.picture_view.setPixmap(QPixmap())
        self.picture_view.setText("Drawing the picture…")

    def end_drawing(self) -> None:
        """After a cancelled or failed run: show the picture there was before, if any."""
        self._render()

    def set_picture(self, picture, prepared=None, *, source: str = "drawn", prompt: str = ""):
        """Show `picture` (PIL) and its preparation (computed here when not given)."""
        self.picture = picture
        self.source = source
        self.prompt = prompt
        self.prepared = prepared if prepared is not None else self._prepare(picture)
        self._render()
        self.pictureChanged.emit()

    def clear(self) -> None:
        self.picture = self.prepared = None
        self.source = self.prompt = ""
        self._render()
        self.pictureChanged.emit()

    def load_file(self, path: Path | str, *, prompt: str = "") -> bool:
        """Read a picture with the engine's safe loader; False (and a message) when unusable."""
        from engine.errors import UserInputError
        from engine.imageprep import load_image

        try:
            picture = load_image(Path(path))
        except UserInputError as exc:
            self.message.emit(str(exc))
            return False
        self.set_picture(picture, source=str(path), prompt=prompt)
        return True

    def browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Choose a picture", "", IMAGE_FILTER)
        if name:
            self.load_file(name, prompt=self.prompt)

    # ---- preparation and display ------------------------------------------------------------
    def _prepare(self, picture):
        if picture is None:
            return None
        from engine.imageprep import prepare_image

        try:
            return prepare_image(picture, remove_background=self.remove_background.isChecked())
        except Exception as exc:  # shown, never raised: the run reports real problems
            log.warning("could not prepare the picture", exc_info=True)
            self.message.emit(f"Could not prepare the picture: {exc}")
            return None

    def _reprepare(self) -> None:
        if self.picture is not None:
            self.prepared = self._prepare(self.picture)
            self._render()

    def _render(self) -> None:
        self._show(self.picture_view, self.picture, NO_PICTURE if self._interactive else "")
        self._show(self.prepared_view, self.prepared.image if self.prepared else None, "")
        note = self.prepared.note if self.prepared else ""
        from_file = self.picture is not None and self.source not in ("", "drawn")
        if from_file:
            note = f"From {elide_middle(Path(self.source).name)}. {note}"
        self.note.setText(note)
        self.note.setToolTip(self.source if from_file else "")
        self._update_buttons()

    def _show(self, label: QLabel, picture, empty: str) -> None:
        if picture is None:
            label.setPixmap(QPixmap())
            label.setText(empty)
            return
        pix = QPixmap.fromImage(pil_to_qimage(picture)).scaled(
            PREVIEW_SIDE - 4,
            PREVIEW_SIDE - 4,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        label.setPixmap(pix)

    # ---- drag and drop (replace) ------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._interactive and not self._running and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        local = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if local and self.load_file(local[0], prompt=self.prompt):
            event.acceptProposedAction()
