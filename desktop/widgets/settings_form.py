"""The side panel's Settings box: model, seed, steps, guidance, speed preset, sampler, device."""

from __future__ import annotations

import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
)

from desktop.widgets.progress_panel import format_seconds
from engine.routes import EMBEDDED_MODEL, PRESETS, SAMPLER_LABELS, route_for
from engine.userdata import resources_dir

RESOURCES_ICONS = resources_dir() / "icons"
MAX_SEED = 2**31 - 1
GUIDANCE_DEFAULT = -0.5  # the spin box's minimum, shown as "model default"
COMBO_MIN_CHARS = 10  # combo boxes shrink to this many characters (longer items are elided)


def shrinkable_combo(combo: QComboBox) -> QComboBox:
    """A combo box that lets the narrow side panel shrink it; its items are elided to fit."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(COMBO_MIN_CHARS)
    combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return combo


class SettingsForm(QGroupBox):
    """The generation knobs; desktop.state.GenerationSettings is read from and shown in them."""

    requirementsChanged = Signal()  # the model or upsample choice changed what must be installed
    FIELDS = (
        "model", "seed", "dice", "steps", "guidance", "upsample", "preset", "sampler",
        "device", "precision", "low_vram",
    )  # fmt: skip

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Settings", parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.model = shrinkable_combo(QComboBox())
        self.model.setObjectName("modelCombo")
        self.model.setToolTip(
            "The network that turns your prompt or picture into points. The built-in model is "
            "small and quick but rough; the official Point-E models (a download) give better "
            "shapes. Bigger bases (300M, 1B) are slower and a little more detailed."
        )
        form.addRow("Model", self.model)
        self.model.currentIndexChanged.connect(self.model_changed)
        seed_row = QHBoxLayout()
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setToolTip("Same seed + same settings = same result")
        self.dice = QToolButton()
        self.dice.setText("Roll")
        dice_icon = RESOURCES_ICONS / "dice.svg"
        if dice_icon.is_file():
            self.dice.setIcon(QIcon(str(dice_icon)))
            self.dice.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.dice.setToolTip("New random seed")
        self.dice.clicked.connect(self.roll_seed)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.dice)
        form.addRow("Seed", seed_row)
        self.steps = QSpinBox()
        self.steps.setRange(0, 1000)
        self.steps.setSpecialValueText("model default")
        self.steps.setToolTip("Denoising steps per stage: fewer is faster, more is cleaner")
        form.addRow("Steps", self.steps)
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(GUIDANCE_DEFAULT, 30.0)
        self.guidance.setSingleStep(0.5)
        self.guidance.setSpecialValueText("model default")
        self.guidance.setToolTip("How strongly to follow the prompt (0 or 1 = off)")
        form.addRow("Guidance", self.guidance)
        self.upsample = QCheckBox("Upsample to 4,096 points")
        self.upsample.toggled.connect(lambda _on: self.requirementsChanged.emit())
        self.upsample.setToolTip("Second stage: 1,024 → 4,096 points (needs the upsampler model)")
        form.addRow("Points", self.upsample)
        self.preset = shrinkable_combo(QComboBox())
        self.preset.setObjectName("presetCombo")
        for key, preset in PRESETS.items():
            self.preset.addItem(preset.label, key)
            self.preset.setItemData(
                self.preset.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole
            )
        self.preset.setToolTip("Speed against quality; Official = Point-E's own settings")
        form.addRow("Speed", self.preset)
        self.sampler = shrinkable_combo(QComboBox())
        self.sampler.addItem("preset's choice", None)
        for key, label in SAMPLER_LABELS.items():
            self.sampler.addItem(label, key)
        self.sampler.setToolTip(
            "The method that removes the noise step by step. Leave it on the preset's choice; "
            "change it only to compare results or when a few steps give a noisy cloud."
        )
        form.addRow("Sampler", self.sampler)
        self.device = shrinkable_combo(QComboBox())
        self.device.setToolTip("Where the model runs; CUDA/MPS appear once detected")
        form.addRow("Device", self.device)
        self.precision = shrinkable_combo(QComboBox())
        self.precision.addItem("float32 (exact)", "float32")
        self.precision.addItem("float16 (GPU, faster)", "float16")
        self.precision.setToolTip(
            "How exactly the numbers are computed. Keep float32; on a GPU, float16 is faster "
            "and uses less memory, with results that can differ slightly."
        )
        form.addRow("Precision", self.precision)
        self.low_vram = QCheckBox("Low GPU memory")
        self.low_vram.setToolTip(
            "For graphics cards with little memory: CLIP and each stage's model leave the GPU "
            "as soon as they are done (a little slower)"
        )
        form.addRow("", self.low_vram)
        self.device.currentIndexChanged.connect(self._device_changed)

    def model_changed(self, *_args) -> None:
        """Upsampling applies where the model's route has an upsampler (the built-in model has
        its own when the app ships one)."""
        builtin = self.model.currentData() == EMBEDDED_MODEL
        own = builtin and route_for(EMBEDDED_MODEL).upsampler is not None
        self.upsample.setEnabled(not builtin or own)
        if own:
            tip = "Second stage: 1,024 → 4,096 points with the built-in upsampler (a few seconds)"
        elif builtin:
            tip = "The built-in model makes 1,024 points; upsampling needs an official model"
        else:
            tip = "Second stage: 1,024 → 4,096 points (needs the upsampler model)"
        self.upsample.setToolTip(tip)
        self.requirementsChanged.emit()

    def set_devices(self, devices: tuple[str, ...]) -> None:
        current = self.device.currentData() or "cpu"
        self.device.blockSignals(True)
        self.device.clear()
        labels = {"cpu": "CPU", "cuda": "CUDA (NVIDIA GPU)", "mps": "MPS (Apple GPU)"}
        for dev in devices:
            self.device.addItem(labels.get(dev, dev), dev)
        self.device.setCurrentIndex(max(0, self.device.findData(current)))
        self.device.blockSignals(False)
        self._device_changed()

    def _device_changed(self, *_args) -> None:
        gpu = self.device.currentData() in ("cuda", "mps")
        item = self.precision.model().item(1)
        item.setEnabled(gpu)
        self.low_vram.setEnabled(gpu)
        if not gpu:
            self.precision.setCurrentIndex(0)

    def roll_seed(self) -> None:
        self.seed.setValue(random.randint(0, MAX_SEED))

    def show_estimates(self, seconds: dict[str, float]) -> None:
        """Each preset with its estimated time ({} = unknown: plain labels)."""
        for i in range(self.preset.count()):
            key = self.preset.itemData(i)
            label = PRESETS[key].label
            if key in seconds:
                label += f" · about {format_seconds(seconds[key])}"
            self.preset.setItemText(i, label)
