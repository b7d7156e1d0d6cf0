"""Text → Image → 3D and Image → 3D in the real window, on the real pipeline with tiny models.

A tiny random base40M/upsample/CLIP store is installed under POINTE_STUDIO_HOME (where the app
looks) and a tiny random diffusers pipeline folder is chosen as the picture model, so every
stage really runs: prompt → picture → prepared picture → CLIP grid → base → upsampler."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.availability import Availability, download_bytes

CTRL = Qt.KeyboardModifier.ControlModifier
NEEDED = ["sd-turbo", "base40M", "clip-vit-l-14", "upsample"]


@pytest.fixture(scope="module")
def tiny_store_dir(tmp_path_factory) -> Path:
    from tests.tiny_store import build_tiny_store

    root = tmp_path_factory.mktemp("store") / "models"
    build_tiny_store(root, tmp_path_factory.mktemp("src"))
    return root


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory) -> Path:
    from tests.engine.tiny_models import tiny_sd_pipeline

    return tiny_sd_pipeline(tmp_path_factory.mktemp("sd") / "tiny-sd")


@pytest.fixture
def installed(studio_home, tiny_store_dir) -> Path:
    """The tiny store copied to $POINTE_STUDIO_HOME/models (engine.checkpoints.default_store)."""
    shutil.copytree(tiny_store_dir, studio_home / "models")
    return studio_home / "models"


@pytest.fixture
def no_hf_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache, so sd-turbo cannot be found there either."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-empty"))


def recording_run():
    """engine.pipeline.run, noting the stage of every step the engine yields."""
    from engine.pipeline import run

    stages: list[str] = []
    used: list = []  # the prepared picture each run's 3D stages were conditioned on

    def wrapped(request, *, should_cancel=None):
        pipeline = run(request, should_cancel=should_cancel)
        try:
            for step in pipeline:
                stages.append(step.stage)
                yield step
        finally:
            pipeline.close()
            used.append(pipeline.prepared)
        return pipeline.result

    wrapped.stages = stages
    wrapped.used = used
    return wrapped


def picture_window(make_window, tiny_sd, *, steps=2, picture_steps=2):
    run = recording_run()
    window = make_window(run_fn=run)
    side = window.side
    side.set_mode("text-image")
    side.picture_settings.set_image_model(str(tiny_sd))  # re-probes what is installed
    side.steps.setValue(steps)
    side.picture_settings.steps.setValue(picture_steps)
    return window, run


def type_and_generate(qtbot, window, prompt: str) -> None:
    editor = window.side.prompt.editor
    editor.clear()
    qtbot.keyClicks(editor, prompt)
    qtbot.keyClick(editor, Qt.Key.Key_Return, CTRL)


def assert_usable(window) -> None:
    assert not window.controller.busy
    assert window.side.generate.isEnabled() and not window.side.cancel.isEnabled()


@pytest.mark.gui
def test_text_image_3d_shows_the_picture_then_the_cloud(
    make_window, installed, tiny_sd, qtbot, artifacts_dir
):
    window, run = picture_window(make_window, tiny_sd)
    side = window.side
    assert side.availability.mode_missing("text-image") == []
    assert not side.get_buttons["text-image"].isVisibleTo(window)
    assert side.picture.isVisibleTo(window) and side.picture_settings.isVisibleTo(window)
    first_3d = {}
    shown_while_drawing = []

    def on_step(_gid, payload):  # runs after the window's own slot
        if payload.stage == "image":
            shown_while_drawing.append(window.viewer.point_count)
        elif not first_3d:  # 3D starts: the picture must already be there
            first_3d["picture"] = side.picture.picture
            first_3d["pixmap"] = not side.picture.picture_view.pixmap().isNull()

    window.controller.step.connect(on_step)
    with qtbot.waitSignal(window.generationFinished, timeout=120_000) as blocker:
        type_and_generate(qtbot, window, "a red chair")
    entry = blocker.args[0]
    window.composite_image().save(str(artifacts_dir / "picture_route_finished.png"))

    assert run.stages[0] == "image" and "base" in run.stages and run.stages[-1] == "upsample"
    assert first_3d["picture"] is not None and first_3d["pixmap"]
    assert shown_while_drawing and set(shown_while_drawing) == {0}, "no points while drawing"
    picture = side.picture.picture
    assert picture is first_3d["picture"] and side.picture.source == "drawn"
    # the preview is exactly what the 3D model saw: the engine's own prepared picture
    assert run.used and side.picture.prepared is run.used[-1]
    assert not side.picture.prepared_view.pixmap().isNull()
    assert side.picture.continue_button.isEnabled()
    # the cloud, and the history entry with its picture and how it was made
    cloud = window.current_cloud
    assert len(cloud) == 256 and window.viewer.point_count == 256
    assert entry.meta["mode"] == "text-image" and entry.meta["prompt"] == "a red chair"
    assert entry.meta["picture"]["image_model"] == str(tiny_sd)
    assert "{prompt}" in entry.meta["picture"]["prompt_template"]
    assert entry.picture_path.is_file() and entry.thumb_path.is_file()
    assert [e.key for e in window.history.entries()] == [entry.key]
    # reopening the result brings its picture back, ready for another Continue to 3D
    side.picture.clear()
    assert window.open_entry(entry)
    saved = np.asarray(side.picture.picture)
    np.testing.assert_array_equal(saved, np.asarray(picture.convert("RGB")))
    assert side.picture.continue_button.isEnabled()


@pytest.mark.gui
def test_redraw_only_the_picture_replace_it_and_continue_to_3d(
    make_window, installed, tiny_sd, qtbot, examples_dir, monkeypatch, studio_home
):
    from PIL import Image
    from PySide6.QtWidgets import QFileDialog

    from engine.imageprep import load_image

    window, run = picture_window(make_window, tiny_sd)
    side = window.side
    side.prompt.editor.setPlainText("a blue vase")
    seed = side.seed.value()
    with qtbot.waitSignal(window.pictureReady, timeout=60_000) as blocker:
        qtbot.mouseClick(side.picture.redraw, Qt.MouseButton.LeftButton)
    assert isinstance(blocker.args[0], Image.Image) and side.picture.picture is blocker.args[0]
    assert set(run.stages) == {"image"}, "only the picture was drawn"
    assert side.seed.value() != seed and window.history.entries() == []
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10_000)

    # replace it with a real photo (the file dialog answers with corgi.jpg)
    corgi = examples_dir / "corgi.jpg"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(corgi), ""))
    qtbot.mouseClick(side.picture.replace, Qt.MouseButton.LeftButton)
    assert side.picture.source == str(corgi)
    np.testing.assert_array_equal(np.asarray(side.picture.picture), np.asarray(load_image(corgi)))
    assert "corgi.jpg" in side.picture.note.text()

    run.stages.clear()
    with qtbot.waitSignal(window.generationFinished, timeout=120_000) as blocker:
        qtbot.mouseClick(side.picture.continue_button, Qt.MouseButton.LeftButton)
    entry = blocker.args[0]
    assert "image" not in run.stages and run.stages[-1] == "upsample", "3D only, no new picture"
    used = Path(entry.meta["image"])
    assert used.parent == studio_home / "pictures" and used.is_file()
    np.testing.assert_array_equal(np.asarray(Image.open(used)), np.asarray(load_image(corgi)))
    assert entry.meta["picture"]["continued_from"] == str(used)
    assert entry.meta["prompt"] == "a blue vase" and entry.picture_path.is_file()
    assert not list((studio_home / "pictures").glob(".tmp-*")), "atomic write left a temp file"


@pytest.mark.gui
def test_image_to_3d_from_a_photo_shows_what_the_model_sees(
    make_window, installed, qtbot, examples_dir
):
    from engine.imageprep import load_image, prepare_for_pointe

    window = make_window(run_fn=recording_run())
    window.refresh_installed()
    side = window.side
    side.set_mode("image")
    side.steps.setValue(2)
    corgi = examples_dir / "corgi.jpg"
    assert side.image.set_image(corgi)
    assert side.picture.isVisibleTo(window) and not side.picture.continue_button.isVisibleTo(window)
    assert not side.picture.prepared_view.pixmap().isNull()
    expected = prepare_for_pointe(load_image(corgi))
    np.testing.assert_array_equal(np.asarray(side.picture.prepared.image), np.asarray(expected))
    assert side.picture.note.text()
    with qtbot.waitSignal(window.generationFinished, timeout=120_000) as blocker:
        qtbot.mouseClick(side.generate, Qt.MouseButton.LeftButton)
    entry = blocker.args[0]
    assert len(window.current_cloud) == 256 and window.viewer.point_count == 256
    assert entry.meta["image"] == str(corgi) and entry.title == "corgi.jpg"
    assert not entry.picture_path.exists(), "the photo is referenced, not copied"


@pytest.mark.gui
def test_cancel_during_the_picture_stage(make_window, installed, tiny_sd, qtbot):
    window, run = picture_window(make_window, tiny_sd, picture_steps=200)
    side = window.side
    cancelled = []

    def on_step(_gid, payload):
        if payload.stage == "image" and payload.step >= 1 and not cancelled:
            cancelled.append(window.cancel())

    window.controller.step.connect(on_step)
    with qtbot.waitSignal(window.generationCancelled, timeout=60_000):
        type_and_generate(qtbot, window, "a green lamp")
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=30_000)
    assert set(run.stages) == {"image"}, "no 3D stage may start after a cancel"
    assert run.stages.count("image") < 60, "the picture stage stopped early"
    assert side.picture.picture is None and window.history.entries() == []
    assert "Cancelled" in window.progress.bar.format()
    assert_usable(window)
    # usable again: a short run finishes
    side.picture_settings.steps.setValue(2)
    with qtbot.waitSignal(window.generationFinished, timeout=120_000):
        qtbot.mouseClick(side.generate, Qt.MouseButton.LeftButton)
    assert side.picture.picture is not None and len(window.history.entries()) == 1


@pytest.mark.gui
def test_cancel_during_the_3d_stage(make_window, installed, tiny_sd, qtbot):
    window, run = picture_window(make_window, tiny_sd, steps=200)
    side = window.side
    at_cancel = {}

    def on_step(_gid, payload):
        if payload.stage == "base" and window.controller.busy and not at_cancel:
            window.cancel()
            at_cancel["n"] = len(run.stages)

    window.controller.step.connect(on_step)
    with qtbot.waitSignal(window.generationCancelled, timeout=60_000):
        type_and_generate(qtbot, window, "a yellow duck")
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=30_000)
    assert "upsample" not in run.stages and run.stages.count("base") < 60
    assert len(run.stages) - at_cancel["n"] <= 2, "the engine stopped within a step or two"
    assert side.picture.picture is not None, "the drawn picture stays for another try"
    assert window.history.entries() == []
    assert_usable(window)
    # usable again: lift the kept picture into 3D
    side.steps.setValue(2)
    with qtbot.waitSignal(window.generationFinished, timeout=120_000) as blocker:
        qtbot.mouseClick(side.picture.continue_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].meta["prompt"] == "a yellow duck"


@pytest.mark.gui
def test_missing_picture_model_is_explained_and_offered(
    make_window, installed, no_hf_cache, qtbot, tmp_path
):
    calls = []

    def never_run(request, *, should_cancel=None):
        calls.append(request)
        raise AssertionError("no run may start while the picture model is missing")
        yield  # pragma: no cover

    window = make_window(run_fn=never_run)
    window.refresh_installed()
    side = window.side
    side.set_mode("text-image")
    assert side.picture_settings.image_model == "sd-turbo"
    assert side.availability.mode_missing("text-image") == ["sd-turbo"]
    assert "sd-turbo" in side.mode_hint.text()
    gb = download_bytes(["sd-turbo"]) / 1e9
    assert f"about {gb:.1f} GB" in side.mode_hint.text()
    get = side.get_buttons["text-image"]
    assert get.isVisibleTo(window) and not side.get_buttons["image"].isVisibleTo(window)
    get.click()
    dialog = window.models_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    assert dialog.selected_names() == ["sd-turbo"]
    dialog.close()

    type_and_generate(qtbot, window, "a red chair")
    assert not window.controller.busy and calls == []
    assert "sd-turbo" in window.statusBar().currentMessage()
    box = window.last_offer_box
    assert box.isVisible() and "sd-turbo" in box.text()
    box.close()
    # a picture model the Models dialog cannot download: said so, with where to fix it
    window.dialogs.pop("offer")
    side.picture_settings.set_image_model(str(tmp_path / "no-such-model"))
    assert side.availability.mode_missing("text-image") == [str(tmp_path / "no-such-model")]
    assert "Picture settings" in side.mode_hint.text()
    window.generate()
    assert not window.controller.busy and calls == []
    assert "Picture settings" in window.statusBar().currentMessage()
    assert window.last_offer_box is None, "nothing to download for a missing folder"


def test_nothing_installed_names_every_model_and_the_download_size():
    found = Availability()
    assert sorted(found.mode_missing("text-image")) == sorted(NEEDED)
    assert sorted(Availability(installed=frozenset(NEEDED)).mode_missing("text-image")) == []
    custom = Availability(installed=frozenset(NEEDED), image_model="/no/such/folder")
    assert custom.mode_missing("text-image") == ["/no/such/folder"]
    total = download_bytes(NEEDED)
    assert 4e9 < total < 5e9, "about 4.6 GB: SD-Turbo, CLIP ViT-L/14, base40M, upsampler"


@pytest.mark.gui
def test_mode_hints_are_honest_about_speed_and_downloads(make_window):
    window = make_window()
    side = window.side
    side.set_availability(Availability())
    assert "seconds" in side.mode_text("text").lower()
    hint = side.mode_text("text-image")
    assert "better" in hint.lower() and "slower" in hint.lower()
    assert f"about {download_bytes(NEEDED) / 1e9:.1f} GB" in hint
    side.get_buttons["text-image"].click()  # the Models dialog opens with all four selected
    dialog = window.models_dialog
    assert sorted(dialog.selected_names()) == sorted(NEEDED)
    assert dialog.download_button.isEnabled()
    dialog.close()


def test_desktop_picture_defaults_match_the_engine():
    from desktop.widgets import picture_settings
    from engine.text2image import DEFAULT_NEGATIVE_PROMPT, DEFAULT_PROMPT_TEMPLATE

    assert picture_settings.DEFAULT_PROMPT_TEMPLATE == DEFAULT_PROMPT_TEMPLATE
    assert picture_settings.DEFAULT_NEGATIVE_PROMPT == DEFAULT_NEGATIVE_PROMPT


@pytest.mark.gui
def test_picture_settings_go_into_the_request_and_persist(make_window, tiny_sd):
    window = make_window()
    side = window.side
    side.set_mode("text-image")
    side.prompt.editor.setPlainText("a chair")
    side.picture_settings.set_image_model(str(tiny_sd))
    side.picture_settings.template.setPlainText("a photo of {prompt} on white")
    side.picture_settings.negative.setText("people")
    side.picture_settings.steps.setValue(3)
    side.picture.remove_background.setChecked(False)
    job = side.build_job()
    picture = job.request.picture
    assert picture is not None and picture.model == str(tiny_sd)
    assert picture.prompt_template == "a photo of {prompt} on white"
    assert picture.negative_prompt == "people" and picture.steps == 3
    assert job.request.remove_background is False
    assert side.build_job(picture_only=True).picture_only
    assert not job.picture_only
    side.picture_settings.review_first.setChecked(True)
    assert side.build_job().picture_only, "review first: Generate draws only"
    side.picture_settings.template.setPlainText("no placeholder")
    assert "{prompt}" in side.input_problem()
    side.picture_settings.template.setPlainText("a photo of {prompt} on white")
    window.close()
    again = make_window()
    ps = again.side.picture_settings
    assert again.side.mode == "text-image" and ps.image_model == str(tiny_sd)
    assert ps.template.toPlainText() == "a photo of {prompt} on white"
    assert ps.negative.text() == "people" and ps.steps.value() == 3
    assert not again.side.picture.remove_background.isChecked()
    assert ps.review_first.isChecked()
