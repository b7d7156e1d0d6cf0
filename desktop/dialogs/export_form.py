"""The Export dialog's option widgets (a view of ExportOptions), built apart from its logic."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs.export_options import (
    DEFAULT_FACES,
    DEFAULT_GRID,
    DEFAULT_SIZE_MM,
    FILE_TYPES,
    TYPES_BY_ID,
    ExportOptions,
    FileType,
)


class ExportForm(QWidget):
    """File, mesher and print settings; `options()` reads them, `set_mesh_enabled` greys them."""

    def __init__(self, parent: QWidget, sdf_ok: bool, sdf_reason: str) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)

        file_box = QGroupBox("File", self)
        form = QFormLayout(file_box)
        self.type_combo = QComboBox(file_box)
        self.type_combo.setObjectName("exportType")
        for t in FILE_TYPES:
            self.type_combo.addItem(t.label, t.id)
        form.addRow("Save as:", self.type_combo)
        row = QHBoxLayout()
        self.path_edit = QLineEdit(file_box)
        self.path_edit.setObjectName("exportPath")
        self.path_edit.setMinimumWidth(320)
        self.browse_button = QPushButton("Browse…", file_box)
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        form.addRow("File:", row)
        outer.addWidget(file_box)

        self.mesh_box = QGroupBox("Mesh", self)
        form = QFormLayout(self.mesh_box)
        self.grid_radio = QRadioButton("Classical mesher (always available)", self.mesh_box)
        self.sdf_radio = QRadioButton("Point-E's SDF mesher (uses its model)", self.mesh_box)
        self.method_group = QButtonGroup(self)
        self.method_group.addButton(self.grid_radio)
        self.method_group.addButton(self.sdf_radio)
        self.grid_radio.setChecked(True)
        self.sdf_radio.setEnabled(sdf_ok)
        self.sdf_reason = QLabel(sdf_reason, self.mesh_box)
        self.sdf_reason.setVisible(bool(sdf_reason))
        self.sdf_reason.setStyleSheet("color: palette(mid);")
        self.install_button = QPushButton("Install…", self.mesh_box)
        self.install_button.setVisible(bool(sdf_reason))
        self.install_button.setToolTip("Open the model manager to download the SDF model")
        self.sdf_radio.setToolTip(sdf_reason or "Point-E's own mesher: a learned distance field")
        form.addRow("Mesher:", self.grid_radio)
        form.addRow("", self.sdf_radio)
        row = QHBoxLayout()
        row.addWidget(self.sdf_reason, 1)
        row.addWidget(self.install_button)
        form.addRow("", row)
        self.grid_spin = QSpinBox(self.mesh_box)
        self.grid_spin.setRange(32, 256)
        self.grid_spin.setSingleStep(16)
        self.grid_spin.setValue(DEFAULT_GRID)
        self.grid_spin.setToolTip("Finer grids keep more detail but take longer")
        form.addRow("Detail (grid size):", self.grid_spin)
        self.smooth_spin = QSpinBox(self.mesh_box)
        self.smooth_spin.setRange(0, 50)
        self.smooth_spin.setToolTip("Smoothing passes: softens the stair-steps of the grid")
        form.addRow("Smoothing:", self.smooth_spin)
        row = QHBoxLayout()
        self.simplify_check = QCheckBox("Simplify to at most", self.mesh_box)
        self.simplify_check.setChecked(True)
        self.faces_spin = QSpinBox(self.mesh_box)
        self.faces_spin.setRange(1_000, 5_000_000)
        self.faces_spin.setSingleStep(10_000)
        self.faces_spin.setGroupSeparatorShown(True)
        self.faces_spin.setValue(DEFAULT_FACES)
        self.faces_spin.setSuffix(" triangles")
        self.simplify_check.toggled.connect(self.faces_spin.setEnabled)
        row.addWidget(self.simplify_check)
        row.addWidget(self.faces_spin, 1)
        form.addRow("Size of file:", row)
        outer.addWidget(self.mesh_box)

        self.print_box = QGroupBox("Print", self)
        form = QFormLayout(self.print_box)
        self.size_spin = QDoubleSpinBox(self.print_box)
        self.size_spin.setRange(1.0, 1000.0)
        self.size_spin.setDecimals(1)
        self.size_spin.setValue(DEFAULT_SIZE_MM)
        self.size_spin.setSuffix(" mm")
        form.addRow("Longest side:", self.size_spin)
        row = QHBoxLayout()
        self.base_check = QCheckBox("Flat base, cut", self.print_box)
        self.base_check.setChecked(True)
        self.base_check.setToolTip("Cuts the bottom flat so the model sits firmly on the bed")
        self.depth_spin = QDoubleSpinBox(self.print_box)
        self.depth_spin.setRange(0.1, 50.0)
        self.depth_spin.setDecimals(1)
        self.depth_spin.setValue(1.0)
        self.depth_spin.setSuffix(" mm")
        self.base_check.toggled.connect(self.depth_spin.setEnabled)
        row.addWidget(self.base_check)
        row.addWidget(self.depth_spin, 1)
        form.addRow("Base:", row)
        self.nozzle_spin = QDoubleSpinBox(self.print_box)
        self.nozzle_spin.setRange(0.1, 2.0)
        self.nozzle_spin.setSingleStep(0.1)
        self.nozzle_spin.setValue(0.4)
        self.nozzle_spin.setSuffix(" mm")
        self.nozzle_spin.setToolTip("Walls thinner than this are reported by the print check")
        form.addRow("Nozzle:", self.nozzle_spin)
        outer.addWidget(self.print_box)
        outer.addStretch(1)

    def file_type(self) -> FileType:
        return TYPES_BY_ID[self.type_combo.currentData()]

    def set_file_type(self, type_id: str) -> None:
        index = self.type_combo.findData(type_id)
        self.type_combo.setCurrentIndex(max(index, 0))

    def set_mesh_enabled(self, enabled: bool) -> None:
        """Mesh and print settings only matter for mesh types."""
        self.mesh_box.setEnabled(enabled)
        self.print_box.setEnabled(enabled)

    def apply(self, saved: dict) -> None:
        """Show remembered settings (ExportPrefs.options); the spin boxes clamp odd values."""
        if saved.get("method") == "sdf" and self.sdf_radio.isEnabled():
            self.sdf_radio.setChecked(True)
        spins = {
            "grid": self.grid_spin,
            "smooth": self.smooth_spin,
            "size_mm": self.size_spin,
            "base_depth_mm": self.depth_spin,
            "nozzle_mm": self.nozzle_spin,
        }
        for name, spin in spins.items():
            if name in saved:
                spin.setValue(saved[name])
        if "max_faces" in saved:
            self.simplify_check.setChecked(saved["max_faces"] > 0)
            if saved["max_faces"] > 0:
                self.faces_spin.setValue(saved["max_faces"])
        if "flat_base" in saved:
            self.base_check.setChecked(saved["flat_base"])

    def options(self) -> ExportOptions:
        return ExportOptions(
            path=Path(self.path_edit.text().strip()).expanduser(),
            file_type=self.file_type(),
            method="sdf" if self.sdf_radio.isChecked() and self.sdf_radio.isEnabled() else "grid",
            grid=self.grid_spin.value(),
            smooth=self.smooth_spin.value(),
            max_faces=self.faces_spin.value() if self.simplify_check.isChecked() else None,
            size_mm=self.size_spin.value(),
            flat_base=self.base_check.isChecked(),
            base_depth_mm=self.depth_spin.value(),
            nozzle_mm=self.nozzle_spin.value(),
        )
