"""Text → picture settings, visible and editable: image model, prompt template, negative prompt."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from desktop.availability import DEFAULT_IMAGE_MODEL

# engine.text2image.catalog imports no torch, so start-up stays light.
from engine.text2image.catalog import DEFAULT_NEGATIVE_PROMPT, DEFAULT_PROMPT_TEMPLATE


class PictureSettings(QGroupBox):
    """How the picture is drawn; `extra()` gives the request's picture keys."""

    imageModelChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Picture settings", parent)
        self.setObjectName("pictureSettings")
        form = QFormLayout(self)
        model_row = QHBoxLayout()
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.addItem(DEFAULT_IMAGE_MODEL)
        self.model.setToolTip(
            f"{DEFAULT_IMAGE_MODEL} (default, 1-4 steps, ≈2.6 GB), a diffusers repo id already "
            "downloaded, or a folder holding a diffusers text-to-image pipeline"
        )
        self.model.lineEdit().editingFinished.connect(self._model_edited)
        self.model.activated.connect(self._model_edited)
        self.folder = QToolButton()
        self.folder.setText("Folder…")
        self.folder.setToolTip("Use a diffusers pipeline folder on this computer")
        self.folder.clicked.connect(self._choose_folder)
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.folder)
        form.addRow("Image model", model_row)
        self.template = QPlainTextEdit(DEFAULT_PROMPT_TEMPLATE)
        self.template.setObjectName("promptTemplate")
        self.template.setMaximumHeight(72)
        self.template.setToolTip(
            "What the picture model is asked for; {prompt} is replaced by your text. "
            "Point-E lifts single objects on white best."
        )
        reset = QPushButton("Default template")
        reset.clicked.connect(lambda: self.template.setPlainText(DEFAULT_PROMPT_TEMPLATE))
        form.addRow("Template", self.template)
        form.addRow("", reset)
        self.negative = QLineEdit(DEFAULT_NEGATIVE_PROMPT)
        self.negative.setToolTip(
            "What the picture should not show. Used only by models run with guidance above 1 "
            f"({DEFAULT_IMAGE_MODEL} runs without guidance and ignores it)."
        )
        form.addRow("Negative", self.negative)
        self.steps = QSpinBox()
        self.steps.setRange(0, 200)
        self.steps.setSpecialValueText("model default")
        self.steps.setToolTip(f"Picture denoising steps ({DEFAULT_IMAGE_MODEL}: 1-4, default 2)")
        form.addRow("Picture steps", self.steps)
        self.review_first = QCheckBox("Stop after the picture, so I can check it")
        self.review_first.setToolTip(
            "Generate draws only the picture; “Continue to 3D” lifts it when you are happy"
        )
        form.addRow("", self.review_first)
        self._last_model = self.image_model

    @property
    def image_model(self) -> str:
        return self.model.currentText().strip() or DEFAULT_IMAGE_MODEL

    def set_image_model(self, model: str) -> None:
        model = model.strip() or DEFAULT_IMAGE_MODEL
        if self.model.findText(model) < 0:
            self.model.addItem(model)
        self.model.setCurrentText(model)
        self._model_edited()

    def _model_edited(self, *_args) -> None:
        model = self.image_model
        if model != self._last_model:
            self._last_model = model
            self.imageModelChanged.emit(model)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Diffusers pipeline folder")
        if folder:
            self.set_image_model(folder)

    def extra(self) -> dict:
        """The request's picture keys (engine.via_image.picture_settings reads them)."""
        return {
            "image_model": self.image_model,
            "prompt_template": self.template.toPlainText().strip(),
            "negative_prompt": self.negative.text().strip(),
            "image_steps": self.steps.value() or None,
        }

    def problem(self) -> str | None:
        if "{prompt}" not in self.template.toPlainText():
            return "The picture template must contain {prompt} where your text goes."
        return None

    def load(self, settings) -> None:
        self.set_image_model(settings.get("picture/model"))
        self.template.setPlainText(settings.get("picture/template") or DEFAULT_PROMPT_TEMPLATE)
        self.negative.setText(settings.get("picture/negative"))
        self.steps.setValue(settings.get("picture/steps"))
        self.review_first.setChecked(settings.get("picture/review_first"))

    def save(self, settings) -> None:
        settings.set("picture/model", self.image_model)
        template = self.template.toPlainText().strip()
        settings.set("picture/template", "" if template == DEFAULT_PROMPT_TEMPLATE else template)
        settings.set("picture/negative", self.negative.text().strip())
        settings.set("picture/steps", self.steps.value())
        settings.set("picture/review_first", self.review_first.isChecked())
