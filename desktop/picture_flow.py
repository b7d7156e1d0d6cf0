"""Text → Image → 3D in the window: show the picture, redraw it, replace it, continue to 3D."""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path

from PySide6.QtCore import QObject

from desktop.paths import pictures_dir
from engine.fileio import atomic_path

log = logging.getLogger(__name__)


def save_picture(picture, folder: Path) -> Path:
    """Write `picture` (PIL) as PNG atomically (temp file + os.replace); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"picture-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}.png"
    with atomic_path(path) as tmp:
        picture.save(tmp, format="PNG")
    return path


class PictureFlow(QObject):
    """Connects the side panel's picture panel to the window's generation controller."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.panel = panel = window.side.picture
        panel.redrawRequested.connect(self.redraw)
        panel.continueRequested.connect(self.continue_to_3d)
        panel.message.connect(lambda text: window.statusBar().showMessage(text, 8000))
        ctl = window.controller
        ctl.started.connect(self._on_started)
        ctl.cancelled.connect(lambda _gid: panel.end_drawing())
        ctl.failed.connect(lambda _gid, _exc, _tb: panel.end_drawing())

    def _on_started(self, _gen_id: int, job) -> None:
        if job.request.picture is not None:
            self.panel.begin_drawing()

    def on_step(self, step, job) -> None:
        """The picture stage's last step carries the picture and what the 3D stages see."""
        if step.image is None:
            return
        prompt = job.request.prompt if job is not None else ""
        self.panel.set_picture(step.image, step.prepared, source="drawn", prompt=prompt)

    def redraw(self) -> None:
        """Draw only a new picture (new seed); the 3D stages wait for "Continue to 3D"."""
        if self.window.controller.busy:
            self.window.statusBar().showMessage("Wait for the current run (or press Esc).", 6000)
            return
        self.window.side.roll_seed()
        self.window.generate(picture_only=True)

    def continue_to_3d(self) -> bool:
        """Lift the panel's picture into 3D: an Image → 3D run from a saved copy of it."""
        window, side = self.window, self.window.side
        if window.controller.busy:
            window.statusBar().showMessage("Wait for the current run (or press Esc).", 6000)
            return False
        problem, missing = side.continue_problem()
        if problem:
            window.statusBar().showMessage(problem, 8000)
            if missing:
                window.offer_models(missing, problem)
            return False
        path = self.saved_picture()
        if path is None:
            return False
        log.info("continuing to 3D from %s", path)
        return window.start_job(side.build_job(picture_path=path))

    def saved_picture(self) -> Path | None:
        """The panel's picture written to the pictures folder (for a run that lifts it)."""
        if self.panel.picture is None:
            return None
        try:
            return save_picture(self.panel.picture, pictures_dir())
        except OSError as exc:
            self.window.show_error(exc, "")
            return None

    def picture_for_history(self, job):
        """The picture a Text → Image → 3D result was lifted from (saved with the result)."""
        if job is None or job.mode != "text-image":
            return None
        return self.panel.picture
