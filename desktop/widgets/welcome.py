"""The first-run panel: the built-in model, the official models and their sizes, the device."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.devices import DeviceReport
from engine.routes import ROUTES

SEEN_KEY = "welcome/seen"
TRY_PROMPT = "a red cube"
#: Prompts the built-in model knows (its model card's vocabulary), shown as ideas.
# prompts the built-in model gets right (bench/quality.py: primitives ~98%; objects not yet)
IDEAS = ("a blue sphere", "a tall green cylinder", "a yellow torus")
#: Official routes offered on first run (text first: the one upgrade from the built-in model).
OFFERED_ROUTES = ("official-text", "image-grid")
#: Short names for catalogue entries whose key reads badly.
DISPLAY_NAMES = {"clip-vit-l-14": "CLIP ViT-L/14"}

#: Fixed width, so the wrapped paragraphs' height can be computed (a free-width top-level window
#: with word-wrapped labels gets too little height and clips them).
PANEL_WIDTH = 640

WARNING_STYLE = (
    "QFrame#deviceWarning { background: #fff4d6; border: 1px solid #d9a21b; border-radius: 6px; }"
    " QFrame#deviceWarning QLabel { color: #3d2c00; }"
)


def should_show(settings) -> bool:
    """Whether to open the panel at start-up: until the user ticks "Don't show this again"."""
    value = settings.q.value(SEEN_KEY, False)
    if isinstance(value, str):  # ini files give strings back
        value = value.strip().lower() in ("1", "true", "yes", "on")
    return not bool(value)


def mark_seen(settings, seen: bool = True) -> None:
    settings.q.setValue(SEEN_KEY, seen)
    settings.q.sync()


def download_size(names: list[str]) -> int:
    """Bytes to download for `names` (catalogue sizes; a name not in the catalogue counts 0)."""
    from engine.checkpoints.catalog import get_entry

    total = 0
    for name in names:
        try:
            total += get_entry(name).size
        except ValueError:
            continue
    return total


def about_gb(size: int) -> str:
    """Download sizes the way a shop writes them: decimal GB, one decimal ("about 2.0 GB")."""
    return f"about {size / 1e9:.1f} GB" if size >= 1e8 else f"about {size / 1e6:.0f} MB"


def route_offer(route_name: str) -> tuple[str, list[str]]:
    """("Point-E text model: base40M-textvec + upsample + CLIP ViT-L/14, about 2.0 GB", names)."""
    route = ROUTES[route_name]
    names = route.required_models()
    shown = sorted(names, key=lambda n: n in route.needs)  # the route's own models first
    parts = " + ".join(DISPLAY_NAMES.get(n, n) for n in shown)
    return f"{route.label}: {parts}, {about_gb(download_size(names))}", names


def licences(names: list[str]) -> str:
    """The models' licences, each named once: "MIT (openai/point-e, openai/CLIP)"."""
    from engine.checkpoints.catalog import get_entry

    owners: dict[str, list[str]] = {}
    for name in names:
        try:
            licence = get_entry(name).licence
        except ValueError:
            continue
        kind, _, owner = licence.partition(" (")
        found = owners.setdefault(kind, [])
        if owner and owner.rstrip(")") not in found:
            found.append(owner.rstrip(")"))
    return "; ".join(f"{kind} ({', '.join(o)})" if o else kind for kind, o in owners.items())


def warning_html(report: DeviceReport) -> str:
    """The warning as rich text, its terminal command on a line of its own for easy reading."""
    text = escape(report.warning or "")
    if report.fix_command:
        code = f"<br><code style='font-size:small'>{escape(report.fix_command)}</code><br>"
        text = text.replace(escape(report.fix_command), code)
    return f"<b style='color:#9a5b00'>⚠</b>&nbsp; {text}"


def _label(text: str, *, rich: bool = False, name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    if name:
        label.setObjectName(name)
    return label


class WelcomePanel(QDialog):
    """A non-modal first-run panel in plain words; it only emits what the user asks for.

    Shown at start-up while should_show(settings); set_report() fills in the device when the
    probe returns (until then it says it is checking). Closing it with "Don't show this again"
    ticked calls mark_seen(settings)."""

    tryPromptRequested = Signal(str)  # the window puts the prompt in the box and generates
    modelsRequested = Signal(list)  # catalogue names for the Models dialog to download

    def __init__(
        self,
        settings=None,
        report: DeviceReport | None = None,
        parent: QWidget | None = None,
        *,
        installed: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePanel")
        self.setWindowTitle("Welcome to Point-E Studio")
        self.setStyleSheet(WARNING_STYLE)
        self.settings = settings
        self.report: DeviceReport | None = None
        layout = QVBoxLayout(self)
        layout.setSpacing(10)

        title = _label("<h2 style='margin:0'>Welcome to Point-E Studio</h2>", rich=True)
        intro = _label(
            "Type what you want into the prompt box and press Generate (Ctrl+Enter). A cloud of "
            "coloured points grows in the 3D view; drag to turn it around. File → Export saves "
            "it, also as a solid mesh for 3D printing. Everything runs on this computer."
        )
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self._builtin_box())
        layout.addWidget(self._official_box(installed))
        layout.addWidget(self._device_box())

        bottom = QHBoxLayout()
        self.dont_show = QCheckBox("Don't show this again")
        self.dont_show.setChecked(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        bottom.addWidget(self.dont_show)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        self.setFixedWidth(PANEL_WIDTH)
        if report is not None:
            self.set_report(report)
        self._fit()

    # ---- sections ---------------------------------------------------------------------------
    def _builtin_box(self) -> QGroupBox:
        box = QGroupBox("Ready now: the built-in model")
        col = QVBoxLayout(box)
        ideas = ", ".join(f"“{p}”" for p in IDEAS)
        col.addWidget(_label(ROUTES["builtin-text"].description))
        col.addWidget(_label(f"Ideas to try: {ideas}.", name="hint"))
        self.try_button = QPushButton(f"Try “{TRY_PROMPT}”")
        self.try_button.setDefault(True)
        self.try_button.clicked.connect(self._try)
        row = QHBoxLayout()
        row.addWidget(self.try_button)
        row.addStretch(1)
        col.addLayout(row)
        return box

    def _official_box(self, installed: frozenset[str]) -> QGroupBox:
        box = QGroupBox("Any prompt, pictures too: the official Point-E models (free download)")
        col = QVBoxLayout(box)
        col.addWidget(
            _label(
                "OpenAI's models understand any prompt and can turn a picture into 3D. They are "
                "downloaded once and kept on this computer; afterwards everything works offline. "
                "They are much faster with a graphics card (GPU)."
            )
        )
        self.offers: dict[str, QCheckBox] = {}
        self.offer_models: dict[str, list[str]] = {}
        all_names: list[str] = []
        for route_name in OFFERED_ROUTES:
            text, names = route_offer(route_name)
            done = all(n in installed for n in names)
            check = QCheckBox(text + (" — installed" if done else ""))
            check.setChecked(route_name == OFFERED_ROUTES[0] and not done)
            check.setEnabled(not done)
            check.setToolTip(ROUTES[route_name].description)
            check.toggled.connect(self._update_get_button)
            self.offers[route_name] = check
            self.offer_models[route_name] = names
            col.addWidget(check)
            all_names += names
        terms = licences(list(dict.fromkeys(all_names)))
        more = "More models (bigger picture models, text → picture → 3D) are in the Models menu."
        col.addWidget(_label(f"Licence: {terms}, free to use. {more}", name="hint"))
        self.models_button = QPushButton("Get the official models…")
        self.models_button.clicked.connect(self._get_models)
        row = QHBoxLayout()
        row.addWidget(self.models_button)
        row.addStretch(1)
        col.addLayout(row)
        self._update_get_button()
        return box

    def _device_box(self) -> QGroupBox:
        box = QGroupBox("Your computer")
        col = QVBoxLayout(box)
        self.device_text = _label("Checking whether this computer has a usable graphics card…")
        self.device_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(self.device_text)
        self.warning_frame = QFrame()
        self.warning_frame.setObjectName("deviceWarning")
        inner = QVBoxLayout(self.warning_frame)
        self.warning_text = _label("", rich=True, name="deviceWarningText")
        self.warning_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("Copy the command")
        self.copy_button.clicked.connect(self._copy_command)
        row = QHBoxLayout()
        row.addWidget(self.copy_button)
        row.addStretch(1)
        inner.addWidget(self.warning_text)
        inner.addLayout(row)
        self.warning_frame.hide()
        col.addWidget(self.warning_frame)
        return box

    # ---- state ------------------------------------------------------------------------------
    def set_report(self, report: DeviceReport) -> None:
        """Show the device the probe found, with its warning (and fix) when there is one."""
        self.report = report
        torch = f"PyTorch {report.torch_version}, {report.build}" if report.torch_version else ""
        where = "the graphics card" if report.device in ("cuda", "mps") else "the processor (CPU)"
        lines = [
            f"<b>Generating on: {escape(report.name)}</b>",
            f"Point-E Studio uses {where}." + (f" ({escape(torch)})" if torch else ""),
        ]
        if report.device == "cpu" and not report.warning:
            lines.append(
                "The built-in model takes seconds on the CPU; the official models work on the "
                "CPU too, only slower."
            )
        self.device_text.setTextFormat(Qt.TextFormat.RichText)
        self.device_text.setText("<br>".join(lines))
        if report.warning:
            self.warning_text.setText(warning_html(report))
            self.copy_button.setVisible(bool(report.fix_command))
            self.warning_frame.show()
        else:
            self.warning_frame.hide()
        self._fit()

    def _fit(self) -> None:
        """Tall enough for every wrapped line at the fixed width (never clipped, never squeezed)."""
        layout = self.layout()
        layout.activate()
        height = layout.totalHeightForWidth(PANEL_WIDTH) if layout.hasHeightForWidth() else 0
        height = max(height, layout.totalMinimumSize().height())
        self.setMinimumHeight(height)
        self.resize(PANEL_WIDTH, height)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit()  # fonts and style are final once shown

    def selected_models(self) -> list[str]:
        names = [
            n
            for route, check in self.offers.items()
            if check.isChecked() and check.isEnabled()
            for n in self.offer_models[route]
        ]
        return list(dict.fromkeys(names))

    def _update_get_button(self, *_args) -> None:
        names = self.selected_models()
        size = about_gb(download_size(names)) if names else ""
        self.models_button.setEnabled(bool(names))
        self.models_button.setText(
            f"Get the official models ({size})…" if names else "Get the official models…"
        )

    # ---- intents ----------------------------------------------------------------------------
    def _try(self) -> None:
        self.tryPromptRequested.emit(TRY_PROMPT)
        self.accept()

    def _get_models(self) -> None:
        names = self.selected_models()
        if names:
            self.modelsRequested.emit(names)
            self.accept()

    def _copy_command(self) -> None:
        if self.report is not None and self.report.fix_command:
            QGuiApplication.clipboard().setText(self.report.fix_command)
            self.copy_button.setText("Copied")

    def done(self, result: int) -> None:
        if self.settings is not None and self.dont_show.isChecked():
            mark_seen(self.settings)
        super().done(result)
