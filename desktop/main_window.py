"""The main window: side panel, live 3D viewport, progress, gallery and log."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QImage
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop import availability, history_saver, workers
from desktop.controller import GenerationController, RunFn
from desktop.editing import EditSession, job_from_entry
from desktop.estimates import PresetEstimates
from desktop.first_run import FirstRun
from desktop.history import HistoryEntry, HistoryStore
from desktop.menus import build_menus
from desktop.paths import data_dir, history_dir, screenshots_dir
from desktop.picture_flow import PictureFlow
from desktop.run_view import RunView
from desktop.settings import Settings
from desktop.state import Job, load_settings, save_settings, settings_from_meta
from desktop.variations_flow import VariationsFlow
from desktop.viewer_host import ViewerHost, composite_image
from desktop.widgets.edit_bar import EditBar
from desktop.widgets.gallery import Gallery
from desktop.widgets.log_panel import LogPanel
from desktop.widgets.progress_panel import ProgressPanel
from desktop.widgets.side_panel import SidePanel
from desktop.widgets.view_controls import ViewControls
from desktop.window_dialogs import DialogsMixin
from engine.pointcloud import PointCloud

log = logging.getLogger(__name__)


class MainWindow(DialogsMixin, QMainWindow):
    """Shows state and forwards intent; the engine runs in the controller's worker thread."""

    generationFinished = Signal(object)  # HistoryEntry of the saved result
    generationCancelled = Signal()
    generationFailed = Signal(object)  # the exception
    pictureReady = Signal(object)  # a picture-only run finished: the picture (PIL)
    viewerReady = Signal()

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        history: HistoryStore | None = None,
        run_fn: RunFn | None = None,
        probe: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Point-E Studio")
        self.setObjectName("mainWindow")
        self.settings = settings or Settings()
        self.history = history or HistoryStore(history_dir())
        self.history_saver = history_saver.HistorySaver(self)  # writes off the GUI thread
        self.current_cloud: PointCloud | None = None
        self.availability = availability.Availability()
        self.viewer = None
        self.closing = False
        self.dialogs: dict[str, QWidget] = {}  # open dialogs and message boxes, closed on exit
        self._probe_wanted, self._probe = probe, None

        # the 3D view is created right after the window first shows (see ViewerHost)
        placeholder = QLabel("Starting the 3D view…", self)
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        placeholder.setMinimumSize(320, 240)
        self.view_controls = ViewControls(self)
        self.progress = ProgressPanel(self)
        center = QWidget(self)
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.setSpacing(2)
        center_layout.addWidget(self.view_controls)
        self.edit_bar = EditBar(self)
        center_layout.addWidget(self.edit_bar)
        center_layout.addWidget(placeholder, 1)
        center_layout.addWidget(self.progress)
        self.viewer_host = ViewerHost(self, center_layout, placeholder)
        self.viewer_host.ready.connect(self._on_viewer_ready)

        self.side = SidePanel(paste_dir=data_dir() / "pasted", parent=self)
        scroll = QScrollArea(self)
        scroll.setWidget(self.side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(340)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll = scroll
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(scroll)
        splitter.addWidget(center)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 900])
        self.setCentralWidget(splitter)

        self.gallery = Gallery(self)
        self.gallery_dock = self._dock("History", self.gallery)
        self.log_panel = LogPanel(self)
        self.log_dock = self._dock("Log", self.log_panel)
        self.tabifyDockWidget(self.gallery_dock, self.log_dock)
        self.gallery_dock.raise_()
        self.resizeDocks([self.gallery_dock], [170], Qt.Orientation.Vertical)

        self.controller = GenerationController(run_fn, self)
        self.run_view = RunView(self)
        self.pictures = PictureFlow(self)
        self.variations = VariationsFlow(self)
        self.editing = EditSession(self, self.edit_bar)
        self._connect()
        self.actions_ = build_menus(self)
        self.first_run = FirstRun(self)
        self.estimates = PresetEstimates(self)
        self._restore_settings()
        self.gallery.set_entries(self.history.entries())
        self.resize(1280, 820)
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.side.prompt.setFocus()
        self._started_up = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started_up:
            self._started_up = True
            QTimer.singleShot(30, self.viewer_host.start_import)  # after the first paint

    def ensure_viewer(self):
        return self.viewer_host.ensure()

    def _on_viewer_ready(self, _viewer) -> None:
        if self._probe_wanted:
            QTimer.singleShot(0, self.start_probe)
            QTimer.singleShot(0, self.first_run.start)
        self.viewerReady.emit()

    def _dock(self, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        return dock

    def _connect(self) -> None:
        side = self.side
        side.generateRequested.connect(self.generate)
        side.cancelRequested.connect(self.cancel)
        side.modelsRequested.connect(self.open_models)
        side.imageModelChanged.connect(lambda _m: self.refresh_installed())
        side.image.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.view_controls.screenshotRequested.connect(self.save_viewport_screenshot)
        self.gallery.openRequested.connect(self.open_entry)
        self.gallery.deleteRequested.connect(lambda e: self.delete_entry(e, confirm=True))
        self.gallery.revealRequested.connect(lambda e: self.reveal(e.folder))
        self.gallery.useSettingsRequested.connect(self.use_entry_settings)

    # ---- settings: the side panel shows the settings model; the profile stores it -----------
    def _restore_settings(self) -> None:
        s = self.settings
        self._saved = load_settings(s)
        self.side.show_settings(self._saved)
        self.side.prompt.set_history(s.prompt_history())
        self.view_controls.set_values(
            **{k: s.get(f"view/{k}") for k in ("point_size", "color_mode", "edl", "background")},
            grid=s.get("view/grid"),
            axes=s.get("view/axes"),
            single_color=s.get("view/single_color"),
        )

    def save_settings(self) -> None:
        s, vc = self.settings, self.view_controls
        save_settings(s, self.side.settings_model())
        s.set("view/point_size", vc.point_size.value())
        s.set("view/color_mode", vc.color_mode.currentData())
        s.set("view/edl", vc.edl.isChecked())
        s.set("view/background", vc.background.currentData())
        s.set("view/grid", vc.grid.isChecked())
        s.set("view/axes", vc.axes.isChecked())
        s.set("view/single_color", vc.single_color)
        s.save_window_state(self.saveGeometry(), self.saveState())
        s.sync()

    # ---- availability (torch import happens here, off the start-up path) --------------------
    def start_probe(self) -> None:
        if self.closing or self._probe is not None:
            return
        image_model = self.side.picture_settings.image_model
        self._probe = workers.FunctionWorker(lambda: availability.probe(image_model), "probe")
        self._probe.returned.connect(self._on_availability)
        self._probe.start()

    def _on_availability(self, found: availability.Availability) -> None:
        if self.closing:
            return
        self.availability = found
        self.side.set_availability(found)
        index = self.side.device.findData(self._saved.device)
        if index >= 0:
            self.side.device.setCurrentIndex(index)
        log.info("devices: %s; installed: %s", ", ".join(found.devices), sorted(found.installed))
        self.estimates.enabled = True
        self.estimates.schedule()

    def refresh_installed(self) -> None:
        image_model = self.side.picture_settings.image_model
        current = self.availability
        self._on_availability(
            availability.Availability(
                devices=current.devices,
                installed=availability.probe_installed(image_model),
                torch_version=current.torch_version,
                image_model=image_model,
            )
        )

    # ---- generation -------------------------------------------------------------------------
    def generate(self, *_args, picture_only: bool = False, variations: int = 1) -> None:
        """Ctrl+Enter / Generate: refuse clearly when busy or when inputs are missing.

        picture_only (Text → Image → 3D): draw the picture and stop before 3D;
        variations: Generate ×N, the base stage for N consecutive seeds in one batch."""
        if self.closing:
            return
        if self.controller.busy:
            self.controller.start(self.side.build_job())  # refused, with a status message
            return
        problem = self.side.input_problem()
        if problem:
            self.progress.ready(problem)  # no stale "Failed"/"Done" from an earlier run
            self.statusBar().showMessage(problem, 8000)
            missing = [m for m in self.side.missing_models() if availability.in_catalogue(m)]
            if missing:
                self.offer_models(missing, problem)
            return
        self.start_job(self.side.build_job(picture_only=picture_only, variations=variations))

    def start_job(self, job: Job) -> bool:
        """Remember the prompt and settings, then hand the job to the worker thread."""
        if self.closing:
            return False
        self.ensure_viewer()
        if job.request.prompt and not job.from_picture:
            self.side.prompt.set_history(self.settings.remember_prompt(job.request.prompt))
        self.save_settings()
        return self.controller.start(job) is not None

    def cancel(self) -> None:
        self.controller.cancel()  # the progress panel says "Cancelling…", then "Cancelled"

    # ---- history ----------------------------------------------------------------------------
    def open_entry(self, entry: HistoryEntry) -> bool:
        self.ensure_viewer()
        if self.controller.busy:
            self.statusBar().showMessage("Wait for the generation to finish (or press Esc).", 6000)
            return False
        try:
            cloud = self.history.load(entry)
        except (OSError, ValueError, KeyError) as exc:
            self.show_error(exc, "")
            return False
        self.viewer.show_points(cloud.coords, cloud.colors, fit=True)
        self.current_cloud = cloud
        self.editing.start(cloud, job_from_entry(entry), entry.folder.name)
        if self.side.mode == "text-image" and entry.picture_path.is_file():
            self.side.picture.load_file(entry.picture_path, prompt=entry.prompt)
        self.progress.finish(f"{entry.title} · seed {entry.meta.get('seed', '?')}")
        return True

    def use_entry_settings(self, entry: HistoryEntry) -> None:
        """History → "Use these settings": the entry's prompt and settings back in the panel."""
        self.side.show_settings(settings_from_meta(entry.meta, self.side.settings_model()))
        if entry.meta.get("prompt"):
            self.side.prompt.set_text(entry.meta["prompt"])
        self.statusBar().showMessage(f"Settings of “{entry.title}” restored.", 6000)

    def delete_entry(self, entry: HistoryEntry, *, confirm: bool = True) -> bool:
        if confirm:
            answer = QMessageBox.question(self, "Delete result", f"Delete “{entry.title}”?")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            self.history.delete(entry)
        except (OSError, ValueError) as exc:
            self.show_error(exc, "")
            return False
        self.gallery.remove_entry(entry)
        return True

    # ---- other actions ----------------------------------------------------------------------
    def save_viewport_screenshot(self) -> Path | None:
        if self.ensure_viewer() is None:
            return None
        path = screenshots_dir() / f"screenshot-{time.strftime('%Y%m%d-%H%M%S')}.png"
        try:
            return self.viewer.save_screenshot(path)
        except (OSError, RuntimeError) as exc:
            self.show_error(exc, "")
            return None

    def export(self) -> None:
        """File → Export…: hands the current cloud to the exporter (engine.export)."""
        if self.current_cloud is None:
            self.statusBar().showMessage("Nothing to export yet: generate or open a result.", 6000)
            return
        from desktop.dialogs.export_dialog import run_export

        self.export_job = run_export(self, self.current_cloud)

    def composite_image(self) -> QImage:
        """The window as a person sees it (Qt's grab() leaves the OpenGL viewport black)."""
        return composite_image(self)

    # ---- shutdown ---------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel and wait for every worker, close dialogs and the plotter: nothing left running."""
        if self.closing:
            event.accept()
            return
        self.closing = True
        self.estimates.stop()
        self.save_settings()
        self.run_view.save_result()  # a result finished just now: thumbnail while still shown
        if workers.active_workers():
            self.hide()  # the current model call may take a moment to finish
        self.controller.cancel()
        workers.shutdown_all()
        for dialog in self.dialogs.values():
            dialog.close()
        self.progress.stop()
        if self.viewer is not None:
            self.viewer.close()
        self.log_panel.detach()
        self.statusBar().clearMessage()  # stops the status bar's message timer
        super().closeEvent(event)
