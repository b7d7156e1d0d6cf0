"""The main window: side panel, live 3D viewport, progress, gallery and log."""

from __future__ import annotations

import importlib
import logging
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QImage, QKeySequence, QPainter
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

from desktop import availability
from desktop.controller import BackgroundTask, GenerationController
from desktop.dialogs.errors import ErrorBox
from desktop.history import HistoryEntry, HistoryStore
from desktop.paths import data_dir, history_dir, screenshots_dir
from desktop.picture_flow import PictureFlow
from desktop.settings import Settings
from desktop.widgets.gallery import Gallery
from desktop.widgets.log_panel import LogPanel
from desktop.widgets.progress_panel import ProgressPanel, format_seconds
from desktop.widgets.side_panel import SidePanel
from desktop.widgets.view_controls import ViewControls
from desktop.worker import RunFn
from engine.pointcloud import PointCloud

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
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
        self.current_cloud: PointCloud | None = None
        self.last_error_box: ErrorBox | None = None
        self._request = None
        self._closing = False

        # the 3D view (pyvista/VTK: seconds to import and initialise) is created right after
        # the window first shows, so the window appears fast; see ensure_viewer()
        self.viewer = None
        self._viewer_placeholder = QLabel("Starting the 3D view…", self)
        self._viewer_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._viewer_placeholder.setMinimumSize(320, 240)
        self.view_controls = ViewControls(self)
        self.progress = ProgressPanel(self)
        center = QWidget(self)
        self._center_layout = center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.setSpacing(2)
        center_layout.addWidget(self.view_controls)
        center_layout.addWidget(self._viewer_placeholder, 1)
        center_layout.addWidget(self.progress)

        self.side = SidePanel(paste_dir=data_dir() / "pasted", parent=self)
        scroll = QScrollArea(self)
        scroll.setWidget(self.side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(340)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(scroll)
        splitter.addWidget(center)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 900])
        self.setCentralWidget(splitter)

        self.gallery = Gallery(self)
        self.gallery_dock = self._dock(
            "History", self.gallery, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.log_panel = LogPanel(self)
        self.log_dock = self._dock("Log", self.log_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.gallery_dock, self.log_dock)
        self.gallery_dock.raise_()
        self.resizeDocks([self.gallery_dock], [170], Qt.Orientation.Vertical)

        self.controller = GenerationController(run_fn, self)
        self.pictures = PictureFlow(self)
        self._connect()
        self._build_menus()
        self._restore_settings()
        self.side.imageModelChanged.connect(lambda _m: self._refresh_installed())
        self.gallery.set_entries(self.history.entries())
        self.resize(1280, 820)
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.side.prompt.setFocus()
        self._probe_task: BackgroundTask | None = None
        self._probe_wanted = probe
        self._started_up = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started_up:
            self._started_up = True
            QTimer.singleShot(30, self._import_viewer)  # after the first paint

    def _import_viewer(self) -> None:
        """Import pyvista/VTK on a helper thread (window stays live), then build the view."""
        if self._closing or self.viewer is not None:
            return

        def load() -> None:  # pyvista/VTK, and triton before any GL context (see viewer.py)
            importlib.import_module("desktop.viewer").preload_triton()

        self._viewer_import = BackgroundTask(load, "viewer-import", self)
        self._viewer_import.result.connect(lambda _m: self.ensure_viewer())
        self._viewer_import.error.connect(lambda _e: self.ensure_viewer())  # retry, here
        self._viewer_import.start()

    def ensure_viewer(self):
        """Create the 3D view once (idempotent); then warm up torch in the background."""
        if self.viewer is not None or self._closing:
            return self.viewer
        from desktop.viewer import Viewer

        was_active, focused = self.isActiveWindow(), self.focusWidget()
        viewer = Viewer(self)
        self._center_layout.replaceWidget(self._viewer_placeholder, viewer.widget)
        self._viewer_placeholder.deleteLater()
        self.viewer = viewer
        if was_active:  # creating VTK's native child window can take X focus from the window
            self.activateWindow()
        if focused is not None:
            focused.setFocus()
        viewer.message.connect(lambda text: self.statusBar().showMessage(text, 4000))
        vc = self.view_controls
        vc.pointSizeChanged.connect(viewer.set_point_size)
        vc.colorModeChanged.connect(viewer.set_color_mode)
        vc.edlChanged.connect(viewer.set_edl)
        vc.backgroundChanged.connect(viewer.set_background)
        vc.gridChanged.connect(viewer.set_grid)
        vc.axesChanged.connect(viewer.set_axes)
        vc.viewRequested.connect(lambda key: viewer.standard_view(Qt.Key(key)))
        vc.resetRequested.connect(viewer.reset_view)
        vc.turntableChanged.connect(viewer.set_turntable)
        self._apply_look()
        if self._probe_wanted:
            QTimer.singleShot(0, self.start_probe)
        self.viewerReady.emit()
        return viewer

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    # ---- wiring -----------------------------------------------------------------------------
    def _connect(self) -> None:
        side, ctl, vc = self.side, self.controller, self.view_controls
        side.generateRequested.connect(self.generate)
        side.cancelRequested.connect(self.cancel)
        side.modelsRequested.connect(self.open_models)
        side.image.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        ctl.started.connect(self._on_started)
        ctl.step.connect(self._on_step)
        ctl.succeeded.connect(self._on_succeeded)
        ctl.failed.connect(self._on_failed)
        ctl.cancelled.connect(self._on_cancelled)
        ctl.busy_changed.connect(side.set_running)
        ctl.refused.connect(lambda text: self.statusBar().showMessage(text, 6000))
        vc.screenshotRequested.connect(self.save_viewport_screenshot)
        self.gallery.openRequested.connect(self.open_entry)
        self.gallery.deleteRequested.connect(lambda e: self.delete_entry(e, confirm=True))
        self.gallery.revealRequested.connect(self.reveal_entry)

    def _action(self, menu, text: str, slot, shortcuts=(), tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        if menu is not None:
            menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.generate_action = self._action(
            file_menu, "&Generate", self.generate, ("Ctrl+Return", "Ctrl+Enter")
        )
        self.cancel_action = self._action(file_menu, "&Cancel generation", self.cancel, ("Esc",))
        file_menu.addSeparator()
        self.export_action = self._action(file_menu, "&Export…", self.export, ("Ctrl+E",))
        self._action(file_menu, "Save &screenshot", self.save_viewport_screenshot, ("F12",))
        self._action(file_menu, "Open &data folder", lambda: self._reveal(data_dir()))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, (QKeySequence.StandardKey.Quit,))
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.gallery_dock.toggleViewAction())
        view_menu.addAction(self.log_dock.toggleViewAction())
        self._action(view_menu, "&Reset view", lambda: self.viewer and self.viewer.reset_view())
        models_menu = bar.addMenu("&Models")
        self._action(models_menu, "&Models…", lambda: self.open_models([]))
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About Point-E Studio", self.show_about)

    # ---- settings ---------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s, side = self.settings, self.side
        side.set_mode(s.get("generation/mode"))
        index = side.model.findData(s.get("generation/model"))
        if index >= 0:
            side.model.setCurrentIndex(index)
        side.seed.setValue(s.get("generation/seed"))
        side.steps.setValue(s.get("generation/steps"))
        side.guidance.setValue(s.get("generation/guidance"))
        side.upsample.setChecked(s.get("generation/upsample"))
        side.sampler.setCurrentIndex(max(0, side.sampler.findData(s.get("generation/sampler"))))
        side.prompt.set_history(s.prompt_history())
        side.picture_settings.load(s)
        side.picture.remove_background.setChecked(s.get("picture/remove_background"))
        self._saved_device = s.get("generation/device")
        self.view_controls.set_values(
            point_size=s.get("view/point_size"),
            color_mode=s.get("view/color_mode"),
            edl=s.get("view/edl"),
            background=s.get("view/background"),
            grid=s.get("view/grid"),
            axes=s.get("view/axes"),
        )

    def _apply_look(self) -> None:
        """Push the toolbar's (restored) choices into a freshly created viewer."""
        v, vc = self.viewer, self.view_controls
        v.set_point_size(vc.point_size.value())
        v.set_color_mode(vc.color_mode.currentData(), self.settings.get("view/single_color"))
        v.set_edl(vc.edl.isChecked())
        v.set_background(vc.background.currentData())
        v.set_grid(vc.grid.isChecked())
        v.set_axes(vc.axes.isChecked())

    def save_settings(self) -> None:
        s, side, vc = self.settings, self.side, self.view_controls
        s.set("generation/mode", side.mode)
        s.set("generation/model", side.model.currentData() or "embedded")
        s.set("generation/seed", side.seed.value())
        s.set("generation/steps", side.steps.value())
        s.set("generation/guidance", side.guidance.value())
        s.set("generation/upsample", side.upsample.isChecked())
        s.set("generation/sampler", side.sampler.currentData())
        s.set("generation/device", side.device.currentData() or "cpu")
        s.set("generation/precision", side.precision.currentData())
        side.picture_settings.save(s)
        s.set("picture/remove_background", side.picture.remove_background.isChecked())
        s.set("view/point_size", vc.point_size.value())
        s.set("view/color_mode", vc.color_mode.currentData())
        s.set("view/edl", vc.edl.isChecked())
        s.set("view/background", vc.background.currentData())
        s.set("view/grid", vc.grid.isChecked())
        s.set("view/axes", vc.axes.isChecked())
        s.save_window_state(self.saveGeometry(), self.saveState())
        s.sync()

    # ---- availability (torch import happens here, off the start-up path) --------------------
    def start_probe(self) -> None:
        if self._closing or self._probe_task is not None:
            return
        image_model = self.side.picture_settings.image_model
        self._probe_task = BackgroundTask(lambda: availability.probe(image_model), "probe", self)
        self._probe_task.result.connect(self._on_availability)
        self._probe_task.start()

    def _on_availability(self, found: availability.Availability) -> None:
        if self._closing:
            return
        self.availability = found
        self.side.set_availability(found)
        index = self.side.device.findData(getattr(self, "_saved_device", "cpu"))
        if index >= 0:
            self.side.device.setCurrentIndex(index)
        log.info(
            "devices: %s; installed models: %s",
            ", ".join(found.devices),
            ", ".join(sorted(found.installed)),
        )

    # ---- generation -------------------------------------------------------------------------
    def generate(self, *_args, picture_only: bool = False) -> None:
        """Ctrl+Enter / Generate: refuse clearly when busy or when inputs are missing.

        picture_only (Text → Image → 3D): draw the picture and stop before 3D."""
        if self._closing:
            return
        if self.controller.busy:
            self.controller.start(self.side.build_request())  # refused, with a status message
            return
        problem = self.side.input_problem()
        if problem:
            self.statusBar().showMessage(problem, 8000)
            missing = [m for m in self.side.missing_models() if availability.in_catalogue(m)]
            if missing:
                self.offer_models(missing, problem)
            return
        self.start_request(self.side.build_request(picture_only=picture_only))

    def start_request(self, request) -> bool:
        """Remember the prompt and settings, then hand the request to the worker thread."""
        if self._closing:
            return False
        self.ensure_viewer()
        if request.prompt and not request.extra.get("from_picture"):
            self.side.prompt.set_history(self.settings.remember_prompt(request.prompt))
        self.save_settings()
        return self.controller.start(request) is not None

    def cancel(self) -> None:
        if self.controller.cancel():
            self.statusBar().showMessage("Cancelling…", 4000)

    def _on_started(self, gen_id: int, request) -> None:
        self._request = request
        self._steps_seen = 0
        self.progress.begin("Loading the model…")
        self.statusBar().showMessage(f"Generating #{gen_id}…")

    def _on_step(self, gen_id: int, payload) -> None:
        self._steps_seen += 1
        if payload.notices:
            text = " ".join(payload.notices)
            log.warning("%s", text)
            self.statusBar().showMessage(text, 15000)
        if payload.image is not None:
            self.pictures.on_step(payload, self._request)
        self.progress.show_step(payload)  # marked dirty first: drawn with the viewer's frame
        if len(payload.coords):  # picture-stage steps carry no points
            self.viewer.show_points(payload.coords, payload.colors)

    def _on_succeeded(self, gen_id: int, cloud: PointCloud, seconds: float) -> None:
        if not isinstance(cloud, PointCloud):  # a picture-only run: the picture is the result
            self.progress.finish(f"Picture ready in {format_seconds(seconds)}")
            self.statusBar().showMessage(
                "Picture ready: Continue to 3D, draw a new one, or replace it.", 8000
            )
            self.pictureReady.emit(cloud)
            return
        self.viewer.show_points(cloud.coords, cloud.colors)
        self.viewer.flush()  # the final frame, now: it becomes the thumbnail
        self.current_cloud = cloud
        self.progress.finish(f"Done in {format_seconds(seconds)} · {len(cloud):,} points")
        entry = self._save_to_history(cloud, seconds)
        self.statusBar().showMessage(f"Done in {format_seconds(seconds)}; saved to history.", 8000)
        if entry is not None:
            self.generationFinished.emit(entry)

    def _save_to_history(self, cloud: PointCloud, seconds: float) -> HistoryEntry | None:
        request = self._request
        meta = {
            "prompt": request.prompt if request else "",
            "image": str(request.image) if request and request.image else None,
            "seed": request.seed if request else None,
            "model": cloud.meta.get("model", request.model if request else None),
            "mode": (request.extra or {}).get("mode") if request else None,
            "picture": _picture_meta(request),
            "settings": {
                "steps": request.steps,
                "guidance": request.guidance,
                "upsample": request.upsample,
                "sampler": request.sampler,
                "device": request.device,
                "precision": request.precision,
            }
            if request
            else {},
            "duration_s": round(seconds, 3),
            "engine": {k: v for k, v in cloud.meta.items() if k not in ("prompt", "model")},
        }
        try:
            entry = self.history.save(
                cloud,
                meta,
                self.viewer.thumbnail(),
                picture=self.pictures.picture_for_history(request),
            )
        except OSError as exc:
            self.show_error(exc, "")
            return None
        self.gallery.add_entry(entry)
        return entry

    def _on_failed(self, gen_id: int, exc: BaseException, tb: str) -> None:
        self.progress.finish("Failed", done=False)
        self.statusBar().showMessage(f"Generation failed: {exc}", 8000)
        self.show_error(exc, tb)
        self.generationFailed.emit(exc)

    def _on_cancelled(self, gen_id: int) -> None:
        self.progress.finish("Cancelled", done=False)
        self.statusBar().showMessage("Generation cancelled.", 6000)
        self.generationCancelled.emit()

    def show_error(self, exc: BaseException, tb: str) -> ErrorBox:
        """The single error path: a non-modal dialog plus the traceback in the log."""
        if self.last_error_box is not None:
            self.last_error_box.close()
        box = ErrorBox(self, exc, tb)
        box.modelsRequested.connect(self.open_models)
        box.open()
        self.last_error_box = box
        return box

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
        if self.side.mode == "text-image" and entry.picture_path.is_file():
            self.side.picture.load_file(entry.picture_path, prompt=entry.prompt)
        self.progress.finish(f"{entry.title} · seed {entry.meta.get('seed', '?')}")
        return True

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

    def reveal_entry(self, entry: HistoryEntry) -> None:
        self._reveal(entry.folder)

    def _reveal(self, folder: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

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

    def open_models(self, names: list | None = None) -> None:
        """The model manager (desktop.dialogs.models_dialog), with the missing names selected."""
        try:
            from desktop.dialogs.models_dialog import ModelsDialog
        except ImportError as exc:
            log.info("Models dialog not available: %s", exc)
            self._info(
                "Models",
                "The model manager is not available in this build. In a "
                "terminal run: python main.py models list / models download NAME",
            )
            return
        if getattr(self, "models_dialog", None) is not None and self.models_dialog.isVisible():
            self.models_dialog.raise_()
            return
        try:
            dialog = ModelsDialog(parent=self, highlight=tuple(names or ()))
        except Exception as exc:
            self.show_error(exc, traceback.format_exc())
            return
        dialog.modelsChanged.connect(self._refresh_installed)
        self.models_dialog = dialog
        dialog.open()

    def _info(self, title: str, text: str) -> QMessageBox:
        """Non-modal information box (never blocks generation or tests)."""
        box = QMessageBox(
            QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, self
        )
        box.open()
        self.last_info_box = box
        return box

    def offer_models(self, names: list[str], text: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Model not installed",
            text,
            QMessageBox.StandardButton.Cancel,
            self,
        )
        get = box.addButton("Open Models…", QMessageBox.ButtonRole.AcceptRole)
        get.clicked.connect(lambda: self.open_models(names))
        box.open()
        self.last_offer_box = box

    def _refresh_installed(self) -> None:
        current = getattr(self, "availability", None) or availability.Availability()
        image_model = self.side.picture_settings.image_model
        found = availability.probe_installed(image_model)
        self._on_availability(
            availability.Availability(
                devices=current.devices,
                installed=found,
                torch_version=current.torch_version,
                image_model=image_model,
            )
        )

    def show_about(self) -> None:
        from desktop.dialogs.about import AboutDialog

        self.about_dialog = AboutDialog(self)
        self.about_dialog.open()

    def composite_image(self) -> QImage:
        """The window as a person sees it (Qt's grab() leaves the OpenGL viewport black)."""
        image = self.grab().toImage()
        frame = self.viewer.image() if self.viewer is not None else None
        if frame is not None:
            h, w = frame.shape[:2]
            view = QImage(frame.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888)
            widget = self.viewer.widget
            top_left = widget.mapTo(self, QPoint(0, 0))
            scale = image.width() / max(1, self.width())
            painter = QPainter(image)
            target = view.scaled(int(widget.width() * scale), int(widget.height() * scale))
            painter.drawImage(int(top_left.x() * scale), int(top_left.y() * scale), target)
            painter.end()
        return image

    # ---- shutdown ---------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel and wait for workers, stop timers, close the plotter: nothing left running."""
        if self._closing:
            event.accept()
            return
        self._closing = True
        self.save_settings()
        if self.controller.busy:
            self.hide()  # the current model call may take a moment to finish
            self.controller.shutdown()
        for task in (self._probe_task, getattr(self, "_viewer_import", None)):
            if task is not None:
                task.wait()
        job = getattr(self, "export_job", None)
        if job is not None:
            job.task.wait()
        dialog = getattr(self, "models_dialog", None)
        if dialog is not None:
            if hasattr(dialog, "shutdown"):
                dialog.shutdown()  # cancels and waits for its download thread
            dialog.close()
        for name in ("last_error_box", "last_offer_box", "last_info_box", "about_dialog"):
            box = getattr(self, name, None)
            if box is not None:
                box.close()
        self.progress.stop()
        if self.viewer is not None:
            self.viewer.close()
        self.log_panel.detach()
        self.statusBar().clearMessage()  # stops the status bar's message timer
        super().closeEvent(event)


def _picture_meta(request) -> dict | None:
    """How a Text → Image → 3D result's picture was made (None for other routes)."""
    if request is None or (request.extra or {}).get("mode") != "text-image":
        return None
    keys = ("image_model", "prompt_template", "negative_prompt", "image_steps")
    meta = {k: request.extra.get(k) for k in keys}
    meta["remove_background"] = request.extra.get("remove_background", True)
    meta["continued_from"] = str(request.image) if request.image else None
    return meta
