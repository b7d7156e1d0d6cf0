"""Toolbar above the viewport: point size, colour mode, lighting, background, grid, axes, views."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSlider,
    QToolButton,
    QWidget,
)

from desktop.view_options import BACKGROUNDS, VIEWS

DEFAULT_SINGLE_COLOR = "#4c9be8"  # the viewer's and the settings' default too


class ViewControls(QWidget):
    """Emits the user's choices; the window forwards them to the Viewer and to settings."""

    pointSizeChanged = Signal(int)
    colorModeChanged = Signal(str)
    singleColorChanged = Signal(str)  # "#rrggbb" picked for the "Single colour" mode
    edlChanged = Signal(bool)
    backgroundChanged = Signal(str)
    gridChanged = Signal(bool)
    axesChanged = Signal(bool)
    viewRequested = Signal(int)  # a Qt.Key of VIEWS
    resetRequested = Signal()
    turntableChanged = Signal(bool)
    screenshotRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.point_size = QSlider(Qt.Orientation.Horizontal)
        self.point_size.setRange(1, 15)
        self.point_size.setFixedWidth(90)
        self.point_size.setToolTip("Point size")
        self.point_size.valueChanged.connect(self.pointSizeChanged)
        self.color_mode = QComboBox()
        for label, key in (("Colours", "rgb"), ("Single colour", "single"), ("Height", "height")):
            self.color_mode.addItem(label, key)
        self.color_mode.currentIndexChanged.connect(self._on_color_mode)
        self._single_color = DEFAULT_SINGLE_COLOR
        self.color_button = QToolButton()
        self.color_button.setObjectName("singleColorButton")
        self.color_button.setToolTip('Colour of the points in "Single colour" mode')
        self.color_button.clicked.connect(self.pick_single_color)
        self._show_single_color()
        self.color_button.setVisible(False)  # only in single-colour mode
        self.edl = QCheckBox("Depth shading")
        self.edl.setToolTip("Eye-dome lighting: shades points by depth, helps read the shape")
        self.edl.toggled.connect(self.edlChanged)
        self.background = QComboBox()
        for name in BACKGROUNDS:
            self.background.addItem(name.capitalize(), name)
        self.background.setToolTip("Background")
        self.background.currentIndexChanged.connect(
            lambda _: self.backgroundChanged.emit(self.background.currentData())
        )
        self.grid = QCheckBox("Grid")
        self.grid.toggled.connect(self.gridChanged)
        self.axes = QCheckBox("Axes")
        self.axes.toggled.connect(self.axesChanged)
        views = QToolButton()
        views.setText("Views")
        views.setToolTip("Standard views; in the viewport: 1-6, 0 isometric, R reset, T turntable")
        views.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(views)
        for key, (label, _, _) in VIEWS.items():
            digit = chr(int(key))
            menu.addAction(
                f"{label.capitalize()}\t{digit}", lambda k=int(key): self.viewRequested.emit(k)
            )
        menu.addSeparator()
        menu.addAction("Reset view\tR", self.resetRequested.emit)
        views.setMenu(menu)
        self.turntable = QPushButton("Turntable")
        self.turntable.setCheckable(True)  # shows whether the view is spinning (T toggles it)
        self.turntable.setToolTip("Spin the object (T in the viewport)")
        self.turntable.toggled.connect(self.turntableChanged)
        shot = QPushButton("Screenshot")
        shot.setToolTip("Save a picture of the viewport (F12)")
        shot.clicked.connect(self.screenshotRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(QLabel("Size"))
        for widget in (
            self.point_size,
            self.color_mode,
            self.color_button,
            self.edl,
            self.background,
            self.grid,
            self.axes,
            views,
            self.turntable,
            shot,
        ):
            layout.addWidget(widget)
        layout.addStretch(1)

    def set_values(
        self,
        *,
        point_size: int,
        color_mode: str,
        edl: bool,
        background: str,
        grid: bool,
        axes: bool,
        single_color: str | None = None,
    ) -> None:
        """Show saved settings; signals fire so the viewer follows."""
        if single_color:
            self.set_single_color(single_color)
        self.point_size.setValue(point_size)
        self.color_mode.setCurrentIndex(max(0, self.color_mode.findData(color_mode)))
        self.edl.setChecked(edl)
        self.background.setCurrentIndex(max(0, self.background.findData(background)))
        self.grid.setChecked(grid)
        self.axes.setChecked(axes)

    # ---- single colour ----------------------------------------------------------------------
    @property
    def single_color(self) -> str:
        """The "Single colour" mode's colour as "#rrggbb" (what settings save)."""
        return self._single_color

    def set_single_color(self, color: str) -> None:
        """Show a colour on the button and emit singleColorChanged when it changed."""
        qcolor = QColor(color)
        if not qcolor.isValid():
            raise ValueError(f"not a colour: {color!r}")
        name = qcolor.name()
        if name == self._single_color:
            return
        self._single_color = name
        self._show_single_color()
        self.singleColorChanged.emit(name)

    def pick_single_color(self) -> None:
        """The colour button: Qt's colour dialog, starting from the current colour."""
        color = QColorDialog.getColor(QColor(self._single_color), self, "Point colour")
        if color.isValid():
            self.set_single_color(color.name())

    def _show_single_color(self) -> None:
        pix = QPixmap(16, 16)
        pix.fill(QColor(self._single_color))
        self.color_button.setIcon(QIcon(pix))

    def _on_color_mode(self, _index: int) -> None:
        mode = self.color_mode.currentData()
        self.color_button.setVisible(mode == "single")
        self.colorModeChanged.emit(mode)

    # ---- turntable --------------------------------------------------------------------------
    def set_turntable_checked(self, on: bool) -> None:
        """Follow the viewer (T key): check the button without asking the viewer again."""
        self.turntable.blockSignals(True)
        self.turntable.setChecked(bool(on))
        self.turntable.blockSignals(False)
