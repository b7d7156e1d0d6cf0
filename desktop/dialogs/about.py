"""About dialog: versions, licences and the Point-E model card's caveats."""

from __future__ import annotations

import platform
import sys
from html import escape
from importlib import metadata

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

PACKAGES = (
    "torch",
    "numpy",
    "PySide6-Essentials",
    "pyvista",
    "pyvistaqt",
    "vtk",
    "open_clip_torch",
    "trimesh",
    "diffusers",
)

CAVEATS = """
<h3>About the models</h3>
<p>Point-E (OpenAI, 2022) is released under the MIT licence. Its model card asks users to keep
in mind that:</p>
<ul>
<li>the models can produce biased or unsafe outputs, and reflect the biases of their training
data (3D models and renders collected from the internet);</li>
<li>outputs are low-resolution point clouds, often missing fine detail; shapes can be wrong
or implausible, and a text prompt is followed far less reliably than a picture;</li>
<li>they are not meant for producing real-world functional parts: do not rely on a generated
object for anything that must bear load, fit precisely or be safe to use;</li>
<li>they must not be used to create objects that could cause harm (e.g. weapons) or to imitate
other people's protected designs.</li>
</ul>
<p>The built-in <b>embedded</b> model is a small model trained by this project on procedurally
generated shapes; it knows simple shapes and colours only (see its model card in
resources/models).</p>
"""


def version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def about_html() -> str:
    from engine import __version__

    rows = "".join(f"<tr><td>{name}</td><td>{version_of(name)}</td></tr>" for name in PACKAGES)
    return (
        f"<h2>Point-E Studio {__version__}</h2>"
        "<p>Text or picture → coloured 3D point cloud → printable mesh, on your own computer."
        " MIT licence.</p>"
        f"<p>Python {sys.version.split()[0]} on {platform.platform()}</p>"
        f"<table>{rows}</table>"
        "<p>Licences: Point-E code and weights: MIT (OpenAI). CLIP: MIT (OpenAI). Qt for Python"
        " (PySide6): LGPLv3. VTK / PyVista: BSD-3-Clause. PyTorch: BSD-3-Clause.</p>"
        + sd_turbo_html()
        + CAVEATS
    )


def sd_turbo_html() -> str:
    """SD-Turbo is not MIT: its own licence has conditions users must see before relying on it."""
    from engine.text2image.catalog import TEXT2IMAGE_DEFAULT as info

    return (
        "<h3>Text → picture → 3D: SD-Turbo</h3>"
        f"<p>The default text-to-image model, <b>{escape(info['repo_id'])}</b> (Stability AI),"
        " is not part of Point-E and is not MIT-licensed. Licence:"
        f" {escape(info['licence'])}."
        f' Read <a href="{escape(info["licence_url"])}">its licence</a> before commercial use.'
        " The weights are not shipped with the app; you download them yourself from the Models"
        " dialog (see resources/model_cards/text2image.md).</p>"
    )


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Point-E Studio")
        self.resize(560, 560)
        text = QTextBrowser(self)
        text.setOpenExternalLinks(True)
        text.setHtml(about_html())
        self.text = text
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, Qt.Orientation.Horizontal)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)
