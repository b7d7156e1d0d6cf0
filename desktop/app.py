"""Application start-up: QApplication, style, logging, error hook, and the main window."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import traceback

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from desktop import gui_gc
from desktop.paths import APP_NAME, ORG_NAME, data_dir
from engine.userdata import resources_dir

RESOURCES = resources_dir()

log = logging.getLogger(__name__)


def setup_logging() -> None:
    """Log to stderr and a rotating file in the data folder (the log panel attaches later)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not any(isinstance(h, logging.StreamHandler) for h in root.handlers):
        stream = logging.StreamHandler()
        stream.setFormatter(fmt)
        stream.setLevel(logging.WARNING)
        root.addHandler(stream)
    try:
        handler = logging.handlers.RotatingFileHandler(
            data_dir() / "pointe-studio.log", maxBytes=2_000_000, backupCount=2, encoding="utf-8"
        )
    except OSError:
        return
    handler.setFormatter(fmt)
    root.addHandler(handler)


#: software OpenGL (Mesa llvmpipe) rasterizes on one thread per core by default; during a run
#: the model's thread holds a core, and a preview frame's raster work waits its turn. More
#: raster threads than cores win the frame a larger share of the CPU (time is shared per
#: thread): on 2 cores the worst pause of the window during a run drops by about 5 ms.
MIN_SOFTWARE_GL_THREADS = 4


def share_cpu_with_software_gl() -> None:
    """Before the first GL context: no effect with a GPU, or if the user set LP_NUM_THREADS."""
    if (os.cpu_count() or 1) < MIN_SOFTWARE_GL_THREADS:
        os.environ.setdefault("LP_NUM_THREADS", str(MIN_SOFTWARE_GL_THREADS))


def create_app(argv: list[str] | None = None) -> QApplication:
    share_cpu_with_software_gl()
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    gui_gc.install(app)  # reference cycles of widgets are freed on this thread only
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    icon = RESOURCES / "icons" / "app.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    style = RESOURCES / "styles" / "app.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text("utf-8"))
    return app


def create_window(**kwargs):
    from desktop.main_window import MainWindow

    return MainWindow(**kwargs)


def run_app() -> int:
    """`python main.py` with no arguments lands here."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    setup_logging()
    app = create_app()
    window = create_window()

    def excepthook(exc_type, exc, tb) -> None:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        if not window.isVisible():
            log.error("unhandled error\n%s", text)
            return
        window.show_error(exc, text)

    sys.excepthook = excepthook
    window.show()
    return int(app.exec())
