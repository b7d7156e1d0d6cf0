"""Side panel: mode, prompt, picture, model and generation settings; builds the request."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.availability import (
    MODES,
    Availability,
    download_bytes,
    in_catalogue,
    mode_models,
)
from desktop.state import GenerationSettings, Job
from desktop.widgets.image_drop import ImageDropZone
from desktop.widgets.picture_panel import PicturePanel, elide_middle
from desktop.widgets.picture_settings import PictureSettings
from desktop.widgets.prompt_box import PromptBox
from desktop.widgets.settings_form import GUIDANCE_DEFAULT, SettingsForm
from engine.errors import EMPTY_PROMPT_MESSAGE
from engine.routes import EMBEDDED_MODEL


class SidePanel(QWidget):
    generateRequested = Signal()
    variationsRequested = Signal(int)  # Generate ×N
    cancelRequested = Signal()
    modelsRequested = Signal(list)  # names to get
    modeChanged = Signal(str)
    imageModelChanged = Signal(str)  # the text-to-image model to probe for

    def __init__(self, paste_dir: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.availability = Availability()
        layout = QVBoxLayout(self)

        # mode: all three shown; a missing model gets a one-click route to the Models dialog
        mode_box = QGroupBox("What to make")
        mode_layout = QVBoxLayout(mode_box)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QRadioButton] = {}
        self.get_buttons: dict[str, QToolButton] = {}
        for mode, (label, hint) in MODES.items():
            row = QHBoxLayout()
            radio = QRadioButton(label)
            radio.setToolTip(hint)
            radio.toggled.connect(lambda on, m=mode: on and self._mode_toggled(m))
            self.mode_group.addButton(radio)
            self.mode_buttons[mode] = radio
            get = QToolButton()
            get.setText("Get models…")
            get.setObjectName(f"get_{mode}")
            get.clicked.connect(
                lambda _=False, m=mode: self.modelsRequested.emit(self.mode_missing(m))
            )
            get.setVisible(False)
            self.get_buttons[mode] = get
            row.addWidget(radio)
            row.addStretch(1)
            row.addWidget(get)
            mode_layout.addLayout(row)
        self.mode_hint = QLabel()
        self.mode_hint.setWordWrap(True)
        self.mode_hint.setObjectName("hint")
        mode_layout.addWidget(self.mode_hint)
        layout.addWidget(mode_box)

        self.prompt = PromptBox(self)
        self.image = ImageDropZone(paste_dir, self)
        self.picture = PicturePanel(self)
        self.picture_settings = PictureSettings(self)
        self.picture_settings.imageModelChanged.connect(self.imageModelChanged)
        self.image.imageChanged.connect(self._image_chosen)
        layout.addWidget(self.prompt)
        layout.addWidget(self.image)
        layout.addWidget(self.picture)
        layout.addWidget(self.picture_settings)

        self.form = SettingsForm(self)
        self.form.requirementsChanged.connect(self._refresh_requirements)
        for name in SettingsForm.FIELDS:  # the panel's public names, as before the split
            setattr(self, name, getattr(self.form, name))
        layout.addWidget(self.form)

        buttons = QHBoxLayout()
        self.generate = QPushButton("Generate")
        self.generate.setObjectName("generateButton")
        self.generate.setToolTip("Generate (Ctrl+Enter)")
        self.generate.setDefault(True)
        self.generate.clicked.connect(self.generateRequested)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Cancel (Esc)")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self.cancelRequested)
        buttons.addWidget(self.generate, 2)
        buttons.addWidget(self.cancel, 1)
        layout.addLayout(buttons)
        more = QHBoxLayout()
        self.variations = QSpinBox()
        self.variations.setRange(2, 9)
        self.variations.setValue(4)
        self.variations.setPrefix("×")
        self.variations.setToolTip("How many candidates (consecutive seeds) to make at once")
        self.generate_many = QPushButton("Generate ×N")
        self.generate_many.setObjectName("generateManyButton")
        self.generate_many.setToolTip(
            "Make several candidates side by side for about the price of one run, then pick one"
        )
        self.generate_many.clicked.connect(
            lambda: self.variationsRequested.emit(self.variations.value())
        )
        more.addWidget(self.generate_many, 2)
        more.addWidget(self.variations, 1)
        layout.addLayout(more)
        layout.addStretch(1)

        self.mode_buttons["text"].setChecked(True)
        self.set_availability(self.availability)  # "nothing official installed" until probed

    # ---- state ------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        for mode, button in self.mode_buttons.items():
            if button.isChecked():
                return mode
        return "text"

    def set_mode(self, mode: str) -> None:
        self.mode_buttons.get(mode, self.mode_buttons["text"]).setChecked(True)
        self._refresh_mode()

    def _mode_toggled(self, mode: str) -> None:
        self._refresh_mode()
        self.modeChanged.emit(mode)

    def _refresh_mode(self) -> None:
        mode = self.mode
        self.prompt.setVisible(mode in ("text", "text-image"))
        self.image.setVisible(mode == "image")
        self.picture.setVisible(mode in ("text-image", "image"))
        self.picture.set_interactive(mode == "text-image")
        self.picture_settings.setVisible(mode == "text-image")
        if mode == "image" and self.picture.source != str(self.image.path or ""):
            self._image_chosen(self.image.path)
        current = self.model.currentData()
        self.model.blockSignals(True)
        self.model.clear()
        for name in mode_models(mode):
            ok = self.availability.model_installed(name)
            text = name + ("" if ok else " (not installed)")
            if name == "embedded":
                text = "embedded (small, built in)"
            self.model.addItem(text, name)
        index = self.model.findData(current)
        if index < 0:  # prefer an installed model
            installed = [
                i for i, n in enumerate(mode_models(mode)) if self.availability.model_installed(n)
            ]
            index = installed[0] if installed else 0
        self.model.setCurrentIndex(index)
        self.model.blockSignals(False)
        self.form.model_changed()

    def mode_text(self, mode: str) -> str:
        """The mode's hint, honest about what is missing and how much there is to download."""
        _label, hint = MODES[mode]
        missing = self.mode_missing(mode)
        if not missing:
            return hint if mode == "text" else hint + " Its models are installed."
        size = download_bytes(missing)
        hint += " Needs " + ", ".join(m if in_catalogue(m) else elide_middle(m) for m in missing)
        get = "click “Get models…”"
        hint += f" (about {size / 1e9:.1f} GB to download; {get})." if size else f" ({get})."
        custom = [m for m in missing if not in_catalogue(m)]
        if custom:
            hint += (
                f" The picture model {elide_middle(custom[0])} is not on this computer: "
                "download it with "
                "diffusers, or pick a pipeline folder in Picture settings."
            )
        return hint

    def mode_missing(self, mode: str) -> list[str]:
        """What `mode` still needs with the panel's choices: the list the hint, "Get models…"
        and Generate's missing-model message all name (the route registry's order)."""
        if mode == self.mode and self.model.currentData():
            return self.missing_models()
        return self.availability.missing(mode, upsample=self.upsample.isChecked())

    def _refresh_requirements(self) -> None:
        """The mode hint and the "Get models…" buttons after the model or upsample changed."""
        for mode, get in self.get_buttons.items():
            missing = self.mode_missing(mode)
            get.setVisible(bool(missing))
            get.setToolTip("Download: " + ", ".join(missing) if missing else "")
        self.mode_hint.setText(self.mode_text(self.mode))

    def _image_chosen(self, path) -> None:
        """Image → 3D: show what the 3D model will see of the chosen picture."""
        if self.mode != "image":
            return
        if path is None:
            self.picture.clear()
        else:
            self.picture.load_file(path)

    def set_availability(self, availability: Availability) -> None:
        self.availability = availability
        self.set_devices(availability.devices)
        self._refresh_mode()

    def set_devices(self, devices: tuple[str, ...]) -> None:
        self.form.set_devices(devices)

    def roll_seed(self) -> None:
        self.form.roll_seed()

    def show_estimates(self, seconds: dict[str, float]) -> None:
        self.form.show_estimates(seconds)

    def set_running(self, running: bool) -> None:
        self.generate.setEnabled(not running)
        self.generate_many.setEnabled(not running)
        self.cancel.setEnabled(running)
        self.picture.set_running(running)

    def settings_model(self) -> GenerationSettings:
        """The widgets' values as the settings model (desktop.state)."""
        guidance = self.guidance.value()
        return GenerationSettings(
            mode=self.mode,
            model=self.model.currentData() or EMBEDDED_MODEL,
            seed=self.seed.value(),
            preset=self.preset.currentData() or "official",
            steps=self.steps.value() or None,
            guidance=None if guidance <= GUIDANCE_DEFAULT else guidance,
            sampler=self.sampler.currentData(),
            upsample=self.upsample.isChecked(),
            device=self.device.currentData() or "cpu",
            precision=self.precision.currentData(),
            remove_background=self.picture.remove_background.isChecked(),
            low_vram=self.low_vram.isChecked(),
            picture=self.picture_settings.choice(),
        )

    def show_settings(self, s: GenerationSettings) -> None:
        """Put a settings model into the widgets (restored profile, "Use these settings")."""
        self.set_mode(s.mode)
        index = self.model.findData(s.model)
        if index >= 0:
            self.model.setCurrentIndex(index)
        self.seed.setValue(s.seed)
        self.preset.setCurrentIndex(max(0, self.preset.findData(s.preset)))
        self.steps.setValue(s.steps or 0)
        self.guidance.setValue(GUIDANCE_DEFAULT if s.guidance is None else s.guidance)
        self.sampler.setCurrentIndex(max(0, self.sampler.findData(s.sampler)))
        self.upsample.setChecked(s.upsample)
        self.device.setCurrentIndex(max(0, self.device.findData(s.device)))
        self.precision.setCurrentIndex(max(0, self.precision.findData(s.precision)))
        self.picture.remove_background.setChecked(s.remove_background)
        self.low_vram.setChecked(s.low_vram)
        self.picture_settings.show_choice(s.picture)

    def build_job(
        self,
        *,
        picture_only: bool = False,
        picture_path: Path | None = None,
        variations: int = 1,
    ) -> Job:
        """The job for the current inputs; the engine validates the details.

        Text → Image → 3D: `picture_only` stops after the picture; `picture_path` skips the
        picture and lifts that file (the picture panel's "Continue to 3D")."""
        s = self.settings_model()
        prompt = self.prompt.text() if s.mode != "image" else ""
        image = self.image.path if s.mode == "image" else None
        from_picture = s.mode == "text-image" and picture_path is not None
        if from_picture:
            image = Path(picture_path)
            prompt = self.picture.prompt  # the prompt the picture was drawn for, if any
        draws = s.mode == "text-image" and not from_picture
        return Job(
            request=s.request(prompt=prompt, image=image, variations=variations),
            mode=s.mode,
            picture_only=draws and (picture_only or s.picture.review_first),
            from_picture=from_picture,
            picture=s.picture if s.mode == "text-image" else None,
        )

    def continue_problem(self) -> tuple[str | None, list[str]]:
        """Why the picture panel's picture cannot go to 3D now, and the models to get."""
        if self.picture.picture is None:
            return "No picture yet: Generate draws one, or load one with Replace…", []
        missing = self.availability.missing(
            "image", self.model.currentData() or "base40M", upsample=self.upsample.isChecked()
        )
        if missing:
            return "Not installed: " + ", ".join(missing) + ". Open Models to get it.", missing
        return None, []

    def input_problem(self) -> str | None:
        """A message when the inputs cannot make a request (checked before any work starts)."""
        mode = self.mode
        if mode in ("text", "text-image") and not self.prompt.text():
            return EMPTY_PROMPT_MESSAGE
        if mode == "text-image" and self.picture_settings.problem():
            return self.picture_settings.problem()
        if mode == "image" and self.image.path is None:
            return "Choose a picture first: drop one on the panel, browse, or paste."
        missing = self.missing_models()
        if not missing:
            return None
        known = [m for m in missing if in_catalogue(m)]
        text = "Not installed: " + ", ".join(known) + ". Open Models to get it." if known else ""
        custom = [m for m in missing if m not in known]
        if custom:
            text += (
                f" The picture model {custom[0]} is not on this computer: choose a downloaded "
                "diffusers folder or repo id in Picture settings."
            )
        return text.strip()

    def missing_models(self) -> list[str]:
        """Everything the current mode, model and upsample choice need that is not installed."""
        return self.availability.missing(
            self.mode, self.model.currentData(), upsample=self.upsample.isChecked()
        )
