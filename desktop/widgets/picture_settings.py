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
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
)

from desktop.availability import DEFAULT_IMAGE_MODEL
from desktop.state import PictureChoice

# engine.text2image.catalog imports no torch, so start-up stays light.
from engine.text2image.catalog import DEFAULT_NEGATIVE_PROMPT, DEFAULT_PROMPT_TEMPLATE


class PictureSettings(QGroupBox):
    """How the picture is drawn; `choice()` gives the settings model's picture part."""

    imageModelChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Picture settings", parent)
        self.setObjectName("pictureSettings")
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        model_row = QHBoxLayout()
        self.model = QComboBox()
        self.model.setEditable(True)
        # a repo id or folder can be long: the box shrinks with the panel and scrolls its text
        self.model.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.model.setMinimumContentsLength(8)
        self.model.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
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
        reset.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.negative = QLineEdit(DEFAULT_NEGATIVE_PROMPT)
        self.negative.setMinimumWidth(80)
        self.negative.setCursorPosition(0)  # the start of a long text shows, not its end
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
        self.review_first = QCheckBox("Stop after the picture to check it")
        self.review_first.setToolTip(
            "Generate draws only the picture; “Continue to 3D” lifts it when you are happy"
        )
        form.addRow(self.review_first)  # spans both columns
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

    def choice(self) -> PictureChoice:
        """The panel's values as the settings model's picture part."""
        return PictureChoice(
            model=self.image_model,
            template=self.template.toPlainText().strip() or DEFAULT_PROMPT_TEMPLATE,
            negative=self.negative.text().strip(),
            steps=self.steps.value() or None,
            review_first=self.review_first.isChecked(),
        )

    def show_choice(self, choice: PictureChoice) -> None:
        self.set_image_model(choice.model)
        self.template.setPlainText(choice.template)
        self.negative.setText(choice.negative)
        self.negative.setCursorPosition(0)
        self.steps.setValue(choice.steps or 0)
        self.review_first.setChecked(choice.review_first)

    def problem(self) -> str | None:
        if "{prompt}" not in self.template.toPlainText():
            return "The picture template must contain {prompt} where your text goes."
        return None
