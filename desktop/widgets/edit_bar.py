"""The point-editing toolbar: select, delete, recolour, remove floaters, undo/redo, re-upsample."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton, QWidget


class EditBar(QWidget):
    """Buttons only: desktop.editing.EditSession does the work and sets what is enabled."""

    selectToggled = Signal(bool)
    deleteRequested = Signal()
    recolourRequested = Signal()
    floatersPreviewed = Signal(float)  # strength: higher removes fewer points
    floatersRemoved = Signal()
    undoRequested = Signal()
    redoRequested = Signal()
    reupsampleRequested = Signal()
    saveRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editBar")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.select = self._button("Select", "Drag a box over points to select them", row)
        self.select.setCheckable(True)
        self.select.toggled.connect(self.selectToggled)
        self.delete = self._button("Delete", "Delete the selected points (Del)", row)
        self.delete.clicked.connect(self.deleteRequested)
        self.recolour = self._button("Recolour…", "Paint the selected points one colour", row)
        self.recolour.clicked.connect(self.recolourRequested)
        row.addWidget(QLabel("Floaters:"))
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(5, 40)  # strength x10: 0.5 .. 4.0
        self.strength.setValue(20)
        self.strength.setMaximumWidth(90)
        self.strength.setToolTip("Preview in red the stray points to remove; further right = fewer")
        self.strength.valueChanged.connect(lambda v: self.floatersPreviewed.emit(v / 10))
        row.addWidget(self.strength)
        self.remove = self._button("Remove", "Remove the stray points shown in red", row)
        self.remove.clicked.connect(self.floatersRemoved)
        self.undo = self._button("Undo", "Undo the last edit (Ctrl+Z)", row)
        self.undo.clicked.connect(self.undoRequested)
        self.redo = self._button("Redo", "Redo (Ctrl+Shift+Z)", row)
        self.redo.clicked.connect(self.redoRequested)
        self.reupsample = self._button(
            "Re-upsample", "Run the upsampler again on the edited cloud (4,096 points)", row
        )
        self.reupsample.clicked.connect(self.reupsampleRequested)
        self.save = self._button("Save edit", "Save the edited cloud as a new History entry", row)
        self.save.clicked.connect(self.saveRequested)
        self.status = QLabel("")
        self.status.setObjectName("editStatus")
        # may shrink to nothing: the buttons, not this note, decide how narrow the view can be
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.status, 1)

    def _button(self, text: str, tip: str, row: QHBoxLayout) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        row.addWidget(button)
        return button


__all__ = ["EditBar"]
