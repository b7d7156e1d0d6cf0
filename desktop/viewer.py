"""The 3D viewport: owns a pyvistaqt QtInteractor, adds one point actor and updates it in place."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyvista as pv
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QWidget
from pyvistaqt import QtInteractor

from desktop.history import square_thumbnail
from desktop.view_options import BACKGROUNDS, COLOR_MODES, DATA_BOUNDS, VIEWS
from desktop.viewer_frames import FramePacer
from desktop.viewer_warmup import ShaderWarmup

log = logging.getLogger(__name__)

MULTI_SAMPLES = 0  # MSAA costs 4x per frame on software GL (llvmpipe) and points need none


class Viewer(QObject):
    """Thin wrapper so the window never talks to VTK directly; all calls are no-ops once closed."""

    updated = Signal(int)  # a frame was rendered showing this many points
    message = Signal(str)  # short status-bar text (view changed, screenshot saved...)
    turntableChanged = Signal(bool)  # the spin started/stopped (T key or set_turntable)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._closed = False
        self.plotter = QtInteractor(parent, auto_update=False, multi_samples=MULTI_SAMPLES)
        self.widget: QWidget = self.plotter
        self.widget.setMinimumSize(320, 240)
        self.widget.installEventFilter(self)
        if self.plotter.iren is not None:
            # pyvista binds 'q' to closing the plotter and VTK binds digits/letters to stereo,
            # wireframe...; inside an app window, keys are ours (see eventFilter).
            self.plotter.iren.clear_key_event_callbacks()
        self.cloud: pv.PolyData | None = None
        self.actor = None
        self.color_mode = "rgb"
        self.single_color = "#4c9be8"
        self._pacer = FramePacer(self.widget, self._render_on_screen, self._on_frame)
        self._render_timer = self._pacer.timer
        self.plotter.frameSwapped.connect(self._on_frame_swapped)
        self._turntable = QTimer(self)
        self._turntable.setInterval(33)
        self._turntable.timeout.connect(self._turn)
        self.plotter.enable_trackball_style()
        self._grid_actor = self.plotter.add_mesh(
            pv.Plane(center=(0, 0, -0.5), i_size=1.2, j_size=1.2, i_resolution=12, j_resolution=12),
            style="wireframe",
            color="#4a505c",  # opaque: a translucent grid costs a translucent pass per frame
            line_width=1,
            pickable=False,
            reset_camera=False,
            name="grid",
        )
        self.plotter.add_axes()
        self.set_background("dark")
        self._hint = self.plotter.add_text(
            "Type a prompt and press Ctrl+Enter",
            position="upper_left",
            font_size=10,
            color="#9aa3b2",
            name="hint",
        )
        self._fit_data_space()
        self._warmup = ShaderWarmup(self.plotter, self._warmup_actor)

    # ---- data -------------------------------------------------------------------------------
    @property
    def point_count(self) -> int:
        return 0 if self.cloud is None else self.cloud.n_points

    def colors(self) -> np.ndarray | None:
        """The RGB bytes currently shown (a copy), for tests and thumbnails."""
        if self.cloud is None:
            return None
        return np.array(self.cloud.point_data["rgb"])

    def displayed_colors(self) -> np.ndarray | None:
        """(N, 3) RGB bytes as the colour mode paints them (before lighting), for tests."""
        if self.cloud is None:
            return None
        if self.color_mode == "single":
            rgb = np.asarray(pv.Color(self.single_color).int_rgb, dtype=np.uint8)
            return np.tile(rgb, (self.cloud.n_points, 1))
        if self.color_mode == "rgb":
            return self.colors()
        table = pv.LookupTable("viridis")
        table.scalar_range = (-0.5, 0.5)
        heights = np.asarray(self.cloud.point_data["height"], dtype=float)
        mapped = np.array([table.map_value(h)[:3] for h in heights], dtype=float)
        return np.round(mapped * 255.0).astype(np.uint8)

    def show_points(
        self, coords: np.ndarray, colors: np.ndarray | None, *, fit: bool = False
    ) -> None:
        """Write points/colours into the existing actor (created once) and schedule a render."""
        if self._closed:
            return
        coords = np.asarray(coords, dtype=np.float32)
        rgb = _to_rgb_bytes(colors, len(coords))
        if self.cloud is None:
            self._create_actor(coords, rgb)
        elif self.cloud.n_points == len(coords):
            self.cloud.points[:] = coords
            self.cloud.point_data["rgb"][:] = rgb
            self.cloud.point_data["height"][:] = coords[:, 2]
            self.cloud.GetPoints().Modified()
            self.cloud.GetPointData().GetArray("rgb").Modified()
            self.cloud.GetPointData().GetArray("height").Modified()
            self.cloud.Modified()
        else:  # base -> upsampled stage: same dataset object and actor, new size
            fresh = pv.PolyData(coords)
            fresh.point_data["rgb"] = rgb
            fresh.point_data["height"] = coords[:, 2].copy()
            self.cloud.copy_from(fresh, deep=True)
            self._apply_color_mode()
        if fit:
            self._fit_data_space()
        self.request_render()

    def _create_actor(self, coords: np.ndarray, rgb: np.ndarray) -> None:
        self.plotter.remove_actor(self._hint, render=False)  # the caller asks for one frame
        self.actor, self.cloud = self._add_cloud_actor(coords, rgb, "cloud")

    def _warmup_actor(self, coords: np.ndarray):
        return self._add_cloud_actor(coords, _to_rgb_bytes(None, len(coords)), "warm-up")[0]

    def _add_cloud_actor(self, coords: np.ndarray, rgb: np.ndarray, name: str):
        """A points actor coloured like the cloud's (the warm-up must match it to share shaders)."""
        cloud = pv.PolyData(coords)
        cloud.point_data["rgb"] = rgb
        cloud.point_data["height"] = coords[:, 2].copy()
        actor = self.plotter.add_points(
            cloud,
            scalars="rgb",
            rgb=True,
            point_size=5,
            reset_camera=False,
            show_scalar_bar=False,
            name=name,
            render=False,
        )
        self._color_actor(actor)
        return actor, cloud

    def request_render(self) -> None:
        """Ask for a frame (throttled: a burst of updates becomes one; see FramePacer)."""
        if not self._closed:
            self._pacer.request()

    def flush(self) -> None:
        """Render a pending update now into the frame image() reads; the widget shows it with
        its next paint. Nothing to do when the last frame already shows every change."""
        self._pacer.flush()

    def _render_on_screen(self) -> bool:
        if self._on_screen():
            self.plotter.render()
            return True
        return False

    def when_drawn(self, fn) -> None:
        """Call fn once the changes asked for so far are in a frame (image() then shows them):
        after the next paint, so a thumbnail costs no render of its own."""
        if self._closed:
            fn()
        else:
            self._pacer.when_drawn(fn)

    def _on_screen(self) -> bool:
        """VTK must not touch the GL context of a hidden or closed view (pyvistaqt #762)."""
        return not self._closed and self.widget.isVisible()

    @property
    def frames(self) -> int:
        return self._pacer.frames

    @property
    def render_cost(self) -> float:
        """Smoothed seconds per frame, paint to swap."""
        return self._pacer.render_cost

    def _on_frame_swapped(self) -> None:
        if not self._closed:
            self._pacer.on_swapped()

    def _on_frame(self) -> None:
        if self._warmup.actor is not None:  # after the paint event: removing an actor
            QTimer.singleShot(0, self, self._end_warmup)  # makes VTK's context current
        self.updated.emit(self.point_count)

    def _end_warmup(self) -> None:
        if not self._closed:
            self._warmup.finish()

    # ---- look -------------------------------------------------------------------------------
    def set_point_size(self, size: float) -> None:
        if self._closed:
            return
        self._point_size = float(size)
        if self.actor is not None:
            self.actor.prop.point_size = float(size)
        self.request_render()

    def set_color_mode(self, mode: str, single_color: str | None = None) -> None:
        """Switch colouring; `single_color` (any pyvista colour) is kept for later too."""
        if mode not in COLOR_MODES:
            raise ValueError(f"colour mode must be one of {COLOR_MODES}, got {mode!r}")
        if single_color:
            pv.Color(single_color)  # raises ValueError on a bad colour, before changing state
            self.single_color = single_color
        self.color_mode = mode
        if not self._closed:
            self._apply_color_mode()
            self.request_render()

    def set_single_color(self, color: str) -> None:
        """The colour picker's choice: remembered, shown at once when in single-colour mode."""
        self.set_color_mode(self.color_mode, color)

    def _apply_color_mode(self) -> None:
        for actor in (self.actor, self._warmup.actor):
            if actor is not None:
                self._color_actor(actor)

    def _color_actor(self, actor) -> None:
        mapper = actor.mapper
        actor.prop.point_size = getattr(self, "_point_size", 5.0)
        if self.color_mode == "single":
            mapper.ScalarVisibilityOff()
            actor.prop.color = self.single_color
            return
        mapper.ScalarVisibilityOn()
        mapper.SetScalarModeToUsePointFieldData()
        if self.color_mode == "rgb":
            mapper.SelectColorArray("rgb")
            mapper.SetColorModeToDirectScalars()
        else:
            mapper.SelectColorArray("height")
            mapper.SetColorModeToMapScalars()
            mapper.lookup_table = pv.LookupTable("viridis")
            mapper.SetScalarRange(-0.5, 0.5)

    def set_edl(self, on: bool) -> None:
        if self._closed:
            return
        if on:
            self.plotter.enable_eye_dome_lighting()
        else:
            self.plotter.disable_eye_dome_lighting()
        self.request_render()

    def set_background(self, name: str) -> None:
        if self._closed:
            return
        bottom, top = BACKGROUNDS.get(name, BACKGROUNDS["dark"])
        self.plotter.set_background(bottom, top=top)
        self.request_render()

    def set_grid(self, on: bool) -> None:
        if not self._closed:
            self._grid_actor.SetVisibility(bool(on))
            self.request_render()

    def set_axes(self, on: bool) -> None:
        if self._closed:
            return
        if on:
            self.plotter.show_axes()
        else:
            self.plotter.hide_axes()
        self.request_render()

    # ---- camera -----------------------------------------------------------------------------
    def _fit_data_space(self) -> None:
        self.plotter.view_isometric(render=False)
        self.plotter.reset_camera(bounds=DATA_BOUNDS, render=False)
        # marked as set: pyvista re-fits an unset camera to the actors (the grid alone: the
        # view centred on the floor) on the first use of `plotter.camera` and on remove_actor
        self.plotter.renderer.camera.is_set = True

    def reset_view(self) -> None:
        if self._closed:
            return
        self._fit_data_space()
        self.request_render()
        self.message.emit("View reset")

    def standard_view(self, key: Qt.Key) -> bool:
        if self._closed or key not in VIEWS:
            return False
        label, method, negative = VIEWS[key]
        view = getattr(self.plotter, method)
        if method == "view_isometric":
            view(render=False)
        else:
            view(negative=negative, render=False)
        self.plotter.reset_camera(bounds=DATA_BOUNDS, render=False)
        self.request_render()
        self.message.emit(f"View: {label}")
        return True

    def set_turntable(self, on: bool) -> None:
        if self._closed:
            return
        was = self._turntable.isActive()
        if on:
            self._turntable.start()
        else:
            self._turntable.stop()
        if was != bool(on):
            self.turntableChanged.emit(bool(on))

    @property
    def turntable_running(self) -> bool:
        return self._turntable.isActive()

    def _turn(self) -> None:
        if self._closed:
            return
        self.plotter.camera.Azimuth(1.5)
        self.request_render()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Number keys pick standard views, R resets; other plain keys never reach VTK. A paint
        starts a frame (timed until the window's frame is swapped)."""
        if obj is self.widget and event.type() == QEvent.Type.Paint:
            self._pacer.on_paint()
        elif obj is self.widget and event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            if event.type() == QEvent.Type.KeyPress:
                key = Qt.Key(event.key())
                if key == Qt.Key.Key_R:
                    self.reset_view()
                elif key == Qt.Key.Key_T:
                    self.set_turntable(not self.turntable_running)
                else:
                    self.standard_view(key)
            return True
        return super().eventFilter(obj, event)

    # ---- images -----------------------------------------------------------------------------
    def image(self) -> np.ndarray | None:
        """The current frame as (H, W, 3) uint8, or None when closed or hidden."""
        if not self._on_screen():
            return None
        return np.asarray(self.plotter.screenshot(None, return_img=True))[..., :3].copy()

    def thumbnail(self, size: int = 160) -> np.ndarray | None:
        img = self.image()
        return None if img is None else square_thumbnail(img, size)

    def save_screenshot(self, path: Path) -> Path:
        img = self.image()
        if img is None:
            raise RuntimeError("the viewer is closed")
        from PIL import Image

        path = Path(path)
        tmp = path.with_suffix(".tmp.png")
        Image.fromarray(img).save(tmp, format="PNG")
        tmp.replace(path)
        self.message.emit(f"Screenshot saved: {path}")
        return path

    # ---- shutdown ---------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget the current cloud (the next step creates the actor again)."""
        if self._closed or self.actor is None:
            return
        self.plotter.remove_actor(self.actor, render=False)
        self.actor = None
        self.cloud = None
        self.request_render()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pacer.stop()
        self._turntable.stop()
        self.widget.removeEventFilter(self)
        self.plotter.close()

    @property
    def closed(self) -> bool:
        return self._closed


def _to_rgb_bytes(colors: np.ndarray | None, n: int) -> np.ndarray:
    if colors is None:
        return np.full((n, 3), 200, dtype=np.uint8)
    c = np.asarray(colors)
    if c.dtype == np.uint8:
        return np.ascontiguousarray(c)
    return np.round(np.clip(c, 0.0, 1.0) * 255.0).astype(np.uint8)
