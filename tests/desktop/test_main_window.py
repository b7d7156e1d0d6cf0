"""The real window driven like a user would: type, Ctrl+Enter, watch, cancel, reopen results."""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer

from engine.errors import UserInputError

from .conftest import scripted_run

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier


def _type_and_generate(qtbot, window, prompt: str) -> None:
    editor = window.side.prompt.editor
    editor.clear()
    qtbot.keyClicks(editor, prompt)
    qtbot.keyClick(editor, Qt.Key.Key_Return, CTRL)


def test_prompt_has_focus_when_the_window_opens(make_window):
    window = make_window()
    assert window.focusWidget() is window.side.prompt.editor
    assert window.side.mode == "text" and window.side.model.currentData() == "embedded"


def test_generation_updates_the_viewer_live_and_lands_in_history(
    make_window, pipeline_run, qtbot, artifacts_dir
):
    window = make_window(run_fn=pipeline_run)
    frames = []
    steps = []

    def on_frame(n: int) -> None:
        if window.viewer.cloud is None:  # the shader warm-up's frame, before the first step
            return
        frames.append(
            (
                n,
                window.viewer.colors(),
                np.array(window.viewer.cloud.points),
                id(window.viewer.actor),
            )
        )

    def on_step(gen_id, payload) -> None:
        steps.append(payload)
        if len(steps) == 4:  # mid-generation picture for a person to look at
            window.viewer.flush()
            window.composite_image().save(str(artifacts_dir / "main_window_mid_generation.png"))

    window.viewer.updated.connect(on_frame)
    window.controller.step.connect(on_step)
    with qtbot.waitSignal(window.generationFinished, timeout=180_000) as blocker:
        _type_and_generate(qtbot, window, "a red cube")
    entry = blocker.args[0]
    cloud = window.current_cloud
    window.composite_image().save(str(artifacts_dir / "main_window_finished.png"))

    assert len(steps) >= 4 and steps[-1].final
    intermediate = [f for f in frames[:-1]]
    assert len(intermediate) >= 2, "the cloud must be shown while it is being denoised"
    first_n, first_colors, _, actor_id = frames[0]
    assert all(f[3] == actor_id for f in frames), "one actor, updated in place"
    assert not np.array_equal(first_colors, frames[-1][1]) or first_n != frames[-1][0]
    assert not np.array_equal(intermediate[0][2], intermediate[-1][2])
    # the end state is exactly the result
    assert window.viewer.point_count == len(cloud)
    np.testing.assert_array_equal(window.viewer.colors(), cloud.colors_u8)
    np.testing.assert_allclose(np.asarray(window.viewer.cloud.points), cloud.coords)
    if steps[0].n_stages > 1:
        assert first_n != len(cloud), "the upsampler stage changes the point count"
    # saved to history, listed in the gallery, prompt remembered
    assert [e.key for e in window.history.entries()] == [entry.key]
    assert window.gallery.count() == 1 and entry.thumb_path.is_file()
    assert entry.meta["prompt"] == "a red cube" and entry.meta["n_points"] == len(cloud)
    assert window.side.prompt.history()[0] == "a red cube"
    assert "Done" in window.progress.bar.format()


def test_cancel_stops_within_one_step_and_the_app_stays_usable(make_window, pipeline_run, qtbot):
    window = make_window(run_fn=pipeline_run)
    window.side.steps.setValue(60)
    seen = []
    window.controller.step.connect(lambda gid, p: seen.append(p))
    _type_and_generate(qtbot, window, "a blue sphere")
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=120_000)
    with qtbot.waitSignal(window.generationCancelled, timeout=5_000):
        qtbot.keyClick(window.side.prompt.editor, Qt.Key.Key_Escape)
    yielded_at_cancel = len(pipeline_run.calls["yielded"])
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=30_000)
    assert len(pipeline_run.calls["yielded"]) - yielded_at_cancel <= 1
    assert window.side.generate.isEnabled() and not window.side.cancel.isEnabled()
    assert "Cancelled" in window.progress.bar.format()
    assert window.history.entries() == []
    # usable again: a short run completes
    window.side.steps.setValue(3)
    with qtbot.waitSignal(window.generationFinished, timeout=120_000):
        qtbot.keyClick(window.side.prompt.editor, Qt.Key.Key_Return, CTRL)
    assert len(window.history.entries()) == 1


def test_second_generate_during_a_run_is_refused(make_window, pipeline_run, qtbot):
    window = make_window(run_fn=pipeline_run)
    window.side.steps.setValue(60)
    _type_and_generate(qtbot, window, "a green cone")
    qtbot.waitUntil(lambda: window.controller.busy, timeout=5_000)
    first = window.controller.active_id
    window.generate()  # the button is disabled; the shortcut and the method refuse
    qtbot.keyClick(window.side.prompt.editor, Qt.Key.Key_Return, CTRL)
    assert window.controller.active_id == first
    assert "already running" in window.statusBar().currentMessage()
    window.cancel()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=30_000)


def test_gui_stays_responsive_during_a_generation(make_window, pipeline_run, qtbot):
    window = make_window(run_fn=pipeline_run)
    window.side.steps.setValue(40)
    ticks = []
    heartbeat = QTimer(window)
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    heartbeat.start()
    try:
        with qtbot.waitSignal(window.generationFinished, timeout=180_000):
            _type_and_generate(qtbot, window, "a yellow torus")
    finally:
        heartbeat.stop()
    gaps = np.diff(ticks)
    print(
        f"heartbeat: worst {gaps.max() * 1000:.0f} ms, median "
        f"{statistics.median(gaps) * 1000:.0f} ms over {len(gaps)} ticks"
    )
    assert len(gaps) >= 10, "the heartbeat must tick throughout the generation"
    assert gaps.max() < 1.0, f"GUI thread froze for {gaps.max():.2f} s during a generation"


def test_closing_during_a_run_shuts_down_cleanly(make_window, pipeline_run, qtbot):
    window = make_window(run_fn=pipeline_run)
    window.side.steps.setValue(60)
    seen = []
    window.controller.step.connect(lambda gid, p: seen.append(p))
    _type_and_generate(qtbot, window, "a purple capsule")
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=120_000)
    start = time.perf_counter()
    window.close()
    assert time.perf_counter() - start < 30
    assert not window.controller.busy and window.viewer.closed
    # the make_window fixture checks that no thread, timer or plotter is left


def test_results_survive_a_restart_reload_and_delete(make_window, pipeline_run, qtbot):
    window = make_window(run_fn=pipeline_run)
    window.side.steps.setValue(3)
    with qtbot.waitSignal(window.generationFinished, timeout=120_000) as blocker:
        _type_and_generate(qtbot, window, "a white pyramid")
    entry = blocker.args[0]
    window.close()

    again = make_window(run_fn=pipeline_run)
    assert again.gallery.count() == 1
    item = again.gallery.item(0)
    assert again.gallery.entry(item).key == entry.key
    rect = again.gallery.visualItemRect(item)
    qtbot.mouseClick(again.gallery.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: again.viewer.point_count == entry.meta["n_points"], timeout=5_000)
    assert again.current_cloud is not None and len(again.current_cloud) == entry.meta["n_points"]
    assert again.side.prompt.history() == ["a white pyramid"]
    assert again.delete_entry(again.gallery.entry(item), confirm=False)
    assert again.gallery.count() == 0 and not entry.folder.exists()


def test_settings_persist_across_windows(make_window, qtbot):
    window = make_window()
    window.side.seed.setValue(1234)
    window.side.steps.setValue(17)
    window.side.set_mode("image")
    window.view_controls.point_size.setValue(9)
    window.view_controls.edl.setChecked(True)
    window.close()
    again = make_window()
    assert again.side.seed.value() == 1234 and again.side.steps.value() == 17
    assert again.side.mode == "image"
    assert again.view_controls.point_size.value() == 9 and again.view_controls.edl.isChecked()


def test_dice_rolls_a_new_seed(make_window, qtbot):
    window = make_window()
    seeds = set()
    for _ in range(4):
        qtbot.mouseClick(window.side.dice, Qt.MouseButton.LeftButton)
        seeds.add(window.side.seed.value())
    assert len(seeds) >= 3


def test_missing_inputs_get_a_message_not_a_run(make_window, qtbot):
    window = make_window(run_fn=scripted_run())
    qtbot.keyClick(window.side.prompt.editor, Qt.Key.Key_Return, CTRL)
    assert not window.controller.busy
    assert "prompt" in window.statusBar().currentMessage().lower()
    window.side.set_mode("image")
    window.generate()
    assert not window.controller.busy
    assert "picture" in window.statusBar().currentMessage().lower()


def test_uninstalled_modes_are_shown_with_a_route_to_models(make_window):
    window = make_window()
    for mode in ("text-image", "image"):
        assert window.side.mode_buttons[mode].isVisibleTo(window)
    from desktop.availability import Availability

    window.side.set_availability(Availability())
    assert window.side.get_buttons["image"].isVisibleTo(window)
    assert not window.side.get_buttons["text"].isVisibleTo(window)
    window.side.get_buttons["image"].click()
    dialog = window.models_dialog
    assert dialog is not None and dialog.isVisible()
    # the dialog highlights exactly what Image → 3D needs, as the route registry lists it
    from desktop.availability import needed_models

    highlighted = {dialog.table.item(i.row(), 0).text() for i in dialog.table.selectedIndexes()}
    assert highlighted == set(needed_models("image"))
    dialog.close()


def test_engine_errors_reach_one_dialog_and_the_log(make_window, qtbot):
    bad = scripted_run(fail_at=1, exc=UserInputError("The built-in model knows none of these."))
    window = make_window(run_fn=bad)
    with qtbot.waitSignal(window.generationFailed, timeout=30_000):
        _type_and_generate(qtbot, window, "zzz")
    box = window.last_error_box
    assert box.isVisible() and "knows none" in box.text()
    assert "Traceback" not in box.text()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10_000)
    window.close()


def test_unexpected_errors_show_a_friendly_dialog_and_log_the_traceback(make_window, qtbot):
    window = make_window(run_fn=scripted_run(fail_at=2, exc=KeyError("oops")))
    with qtbot.waitSignal(window.generationFailed, timeout=30_000):
        _type_and_generate(qtbot, window, "a red cube")
    box = window.last_error_box
    assert box.windowTitle() == "Unexpected error" and "KeyError" in box.text()
    qtbot.waitUntil(lambda: "Traceback" in window.log_panel.toPlainText(), timeout=5_000)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10_000)


def test_about_dialog_lists_versions_licences_and_caveats(make_window):
    window = make_window()
    window.show_about()
    text = window.about_dialog.text.toPlainText()
    assert "MIT" in text and "biased" in text and "functional parts" in text
    assert "PySide6" in text and "pyvista" in text


def test_screenshot_key_saves_the_viewport(make_window, qtbot, studio_home):
    window = make_window(run_fn=scripted_run(steps=2, delay=0.0))
    with qtbot.waitSignal(window.generationFinished, timeout=60_000):
        _type_and_generate(qtbot, window, "a red cube")
    qtbot.keyClick(window.side.prompt.editor, Qt.Key.Key_F12)
    shots = list((studio_home / "screenshots").glob("*.png"))
    assert len(shots) == 1 and shots[0].stat().st_size > 1000


def test_engine_notices_reach_the_status_bar(make_window, qtbot):
    inner = scripted_run(n_stages=1, steps=2, delay=0.0)

    def run(request, *, should_cancel=None):
        from dataclasses import replace as dc_replace

        gen = inner(request, should_cancel=should_cancel)
        first = next(gen)
        yield dc_replace(first, notices=("Ignored words the built-in model does not know: zork",))
        return (yield from gen)

    window = make_window(run_fn=run)
    shown = []  # the status line right after the window handled each step
    window.controller.step.connect(lambda _g, _s: shown.append(window.statusBar().currentMessage()))
    with qtbot.waitSignal(window.generationFinished, timeout=60_000):
        _type_and_generate(qtbot, window, "a red zork")
    assert shown[0] == "Ignored words the built-in model does not know: zork"
    assert "zork" in window.log_panel.toPlainText()  # and the log keeps it


def test_missing_model_error_offers_the_models_dialog(make_window, qtbot):
    from engine.errors import ModelNotInstalled

    window = make_window(run_fn=scripted_run(fail_at=1, exc=ModelNotInstalled(["base40M"])))
    with qtbot.waitSignal(window.generationFailed, timeout=30_000):
        _type_and_generate(qtbot, window, "a red cube")
    box = window.last_error_box
    assert "base40M" in box.text()
    buttons = [b for b in box.buttons() if b.text() == "Open Models…"]
    assert len(buttons) == 1
    buttons[0].click()
    dialog = window.models_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    dialog.close()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10_000)


def test_image_mode_builds_a_picture_request_and_routes_missing_models(
    make_window, qtbot, examples_dir
):
    window = make_window(run_fn=scripted_run())
    window.side.set_mode("image")
    assert window.side.image.set_image(examples_dir / "corgi.jpg")
    request = window.side.build_job().request
    assert request.image == examples_dir / "corgi.jpg" and request.prompt == ""
    assert request.model == "base40M"
    window.generate()  # nothing official installed: a message and a route to Models, no run
    assert not window.controller.busy
    assert "Not installed" in window.statusBar().currentMessage()
    assert window.last_offer_box.isVisible()
    window.last_offer_box.close()
