"""Text → Image → 3D in the window: show the picture, redraw it, replace it, continue to 3D."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QObject

from desktop.paths import pictures_dir

log = logging.getLogger(__name__)


def save_picture(picture, folder: Path) -> Path:
    """Write `picture` (PIL) as PNG atomically (temp file + os.replace); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"picture-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}.png"
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            picture.save(fh, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
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

    def _on_started(self, _gen_id: int, request) -> None:
        if request.extra.get("via_image"):
            self.panel.begin_drawing()

    def on_step(self, payload, request) -> None:
        """The last picture-stage step carries the picture: show it before 3D starts."""
        if payload.image is None:
            return
        prompt = request.prompt if request is not None else ""
        self.panel.set_picture(payload.image, payload.prepared, source="drawn", prompt=prompt)

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
        try:
            path = save_picture(self.panel.picture, pictures_dir())
        except OSError as exc:
            window.show_error(exc, "")
            return False
        log.info("continuing to 3D from %s", path)
        return window.start_request(side.build_request(picture_path=path))

    def picture_for_history(self, request):
        """The picture a Text → Image → 3D result was lifted from (saved with the result)."""
        if request is None or request.extra.get("mode") != "text-image":
            return None
        return self.panel.picture
