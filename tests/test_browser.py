"""Widgets as a learner sees them: JupyterLab and Notebook 7 in headless Chromium.

Both front ends are started here on 127.0.0.1 (free port, random token). After Run All,
every bplearn widget in the browser must show exactly what its object in the kernel
holds (controls, text and picture), and what the code set: a second client of the same
kernel asks it (tests/browser/harness.py). Then scripted clicks, drags, key presses and
dropdown choices, each followed by the same comparison and a check that the state moved
as the action says. Errors in the browser console and tracebacks from the kernel (comm
handlers, threads) fail the test.

The first four tests each reproduce one problem of issue 15 (they fail on the code
before it was fixed); ``test_lab_every_lesson`` runs last and walks every lesson that
shows a widget. Skipped (with the reason) only when Chromium or playwright is missing
and BPLEARN_REQUIRE_BROWSER is not "1"; CI sets it, so there a missing browser fails.

BPLEARN_CODE_ROOT (default: this checkout) is the bplearn and course/ the kernel uses,
so the same tests can be pointed at an older commit checked out in a git worktree.
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from harness import CHROMIUM, CHROMIUM_ARGS, JupyterServer, NotebookPage  # noqa: E402

CODE_ROOT = Path(os.environ.get("BPLEARN_CODE_ROOT", ROOT))
ARTIFACTS = ROOT / "test-artifacts"
WIDGET_CLASSES = ("GraphStepper", "NetworkStepper", "BPTTStepper", "Playground", "TangentExplorer")
RAW_CONTAINER = re.compile(r"\b[HV]Box\(children=")
WAIT = 30.0          # seconds an action may take to show (a loaded 2-core machine is slow)


def _require(what: str, ok: bool) -> None:
    if ok:
        return
    if os.environ.get("BPLEARN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} is required (BPLEARN_REQUIRE_BROWSER=1) but missing")
    pytest.skip(f"{what} is missing: install it (apt-get install chromium; pip install playwright) to run this test")


@pytest.fixture(scope="module")
def browser():
    _require(CHROMIUM, os.path.exists(CHROMIUM))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require("the playwright Python package", False)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _server(kind, tmp_path_factory):
    pythonpath = os.pathsep.join([str(CODE_ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return JupyterServer(kind, tmp_path_factory.mktemp(kind), pythonpath)


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    server = _server("lab", tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def notebook7(browser, tmp_path_factory):
    server = _server("notebook", tmp_path_factory)
    yield server
    server.stop()


def write_notebook(server, name: str, cells: list[str]) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, server.work / name)
    return name


def wait_for(check, what: str, seconds: float = WAIT):
    """Poll ``check()`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.2)


def text_of(nb, widget) -> str:
    return " ".join((widget.locator(".bplearn-step-text").inner_text() or "").split())


def step_numbers(text: str) -> tuple[int, int]:
    match = re.search(r"step (\d+) of (\d+)", text)
    assert match, f"no 'step i of n' in {text!r}"
    return int(match.group(1)), int(match.group(2))


def check_all(nb) -> list[dict]:
    """Every bplearn widget on the page shows its kernel object's state; returns the kernel rows."""
    kernel = nb.probe.widgets()
    shown = nb.widgets()
    assert shown.count() == len(kernel), (f"{shown.count()} bplearn widgets in the browser, "
                                          f"{len(kernel)} displayed in the kernel")
    for i in range(shown.count()):
        nb.check_widget_shows_kernel_state(shown.nth(i), kernel)
    return kernel


def agrees(nb, widget) -> dict:
    """Wait until this widget shows its kernel state (after an action), then return that state."""
    def attempt():
        try:
            return nb.check_widget_shows_kernel_state(widget, nb.probe.widgets())
        except AssertionError:
            return None
    row = wait_for(attempt, "the widget to show the kernel's state")
    return row


def kernel_attr(nb, cls: str, expr: str) -> str:
    """What ``print(obj<expr>)`` prints in the kernel, obj being its first object of class ``cls``."""
    return nb.probe.run(f"_bplearn_o = next(o for o in list(globals().values()) if type(o).__name__ == {cls!r})\n"
                        f"print(_bplearn_o{expr})\ndel _bplearn_o").strip()


def no_errors(nb) -> None:
    errors = nb.errors()
    assert not errors, "errors while using the widgets:\n" + "\n".join(errors)


# --- scripted use of each widget class (mouse and keyboard) -------------------------------------------
def use_stepper(nb, widget) -> None:
    widget.locator(".jupyter-button", has_text=re.compile(r"^Reset$")).click()
    wait_for(lambda: step_numbers(text_of(nb, widget))[0] == 0, "Reset to show step 0")
    last = step_numbers(text_of(nb, widget))[1]
    agrees(nb, widget)
    widget.locator(".jupyter-button", has_text=re.compile(r"^Step$")).click()
    wait_for(lambda: step_numbers(text_of(nb, widget))[0] == 1, "Step to show step 1")
    assert agrees(nb, widget)["state"]["step"] == 1
    step = widget.locator(".jupyter-button", has_text=re.compile(r"^Step$"))
    step.focus()                                                      # keyboard only from here
    nb.page.keyboard.press("Space")
    wait_for(lambda: step_numbers(text_of(nb, widget))[0] == 2, "Space on Step to show step 2")
    nb.page.keyboard.press("Tab")                                     # focus moves to "Run backward"
    nb.page.keyboard.press("Enter")
    wait_for(lambda: step_numbers(text_of(nb, widget))[0] == last, "Enter on Run backward to show the last step")
    assert agrees(nb, widget)["state"]["step"] == last
    slider_key(nb, widget.locator(".widget-slider").first, "ArrowLeft", str(last - 1))
    wait_for(lambda: step_numbers(text_of(nb, widget))[0] == last - 1, "the step slider moved by keyboard")
    assert agrees(nb, widget)["state"]["step"] == last - 1


def slider_key(nb, slider, key: str, typed: str) -> None:
    """Move a slider by keyboard: in JupyterLab focus its handle and press ``key``; in
    Notebook 7, whose notebook shortcuts take the arrow keys, focus the number beside it,
    type ``typed`` and press Enter (see docs/accessibility.md)."""
    if nb.server.kind == "lab":
        slider.locator(".noUi-handle").focus()
        nb.page.keyboard.press(key)
    else:
        slider.locator(".widget-readout").focus()
        nb.page.keyboard.press("Control+A")
        nb.page.keyboard.type(typed)
        nb.page.keyboard.press("Enter")


def use_network_stepper(nb, widget) -> None:
    use_stepper(nb, widget)
    menu = widget.locator(".widget-dropdown select")
    options = [" ".join(o.split()) for o in menu.locator("option").all_inner_texts()]   # no-break spaces
    index = 1 if menu.evaluate("s => s.selectedIndex") != 1 else 2
    menu.select_option(index=index)
    choice = options[index]
    wait_for(lambda: f"selected weight {choice}" in text_of(nb, widget), f"the text to name {choice}")
    agrees(nb, widget)


def use_bptt_stepper(nb, widget) -> None:
    use_stepper(nb, widget)
    truncate = widget.locator(".widget-checkbox", has_text="truncate BPTT").locator("input")
    was = truncate.is_checked()
    clip_before = kernel_attr(nb, "BPTTStepper", ".clip_norm")
    truncate.click()
    wanted = "full BPTT" if was else "truncated BPTT, blocks of"
    wait_for(lambda: wanted in text_of(nb, widget), f"the heading to say {wanted!r}")
    agrees(nb, widget)
    clip_after = kernel_attr(nb, "BPTTStepper", ".clip_norm")
    assert clip_after == clip_before, "ticking 'truncate BPTT' changed the clipping"


def use_playground(nb, widget) -> None:
    epochs = widget.locator(".widget-text", has_text="epochs").locator("input")
    epochs.fill("3")                                                  # keyboard: type and press Enter
    epochs.press("Enter")
    wait_for(lambda: kernel_attr(nb, "Playground", ".settings['epochs']") == "3", "epochs = 3 in the kernel")
    start = int(re.search(r"epoch (\d+)", text_of(nb, widget)).group(1))
    widget.locator(".jupyter-button", has_text=re.compile(r"^Train$")).click()
    wait_for(lambda: re.search(rf"epoch {start + 3}:.*; (done|diverged)", text_of(nb, widget)),
             f"training to end at epoch {start + 3} with 'done'")
    row = agrees(nb, widget)
    assert row["state"]["epoch"] == start + 3 and not row["state"]["running"]
    epochs.fill("10000")                                              # long enough to press Stop
    epochs.press("Enter")
    widget.locator(".widget-dropdown", has_text="batch").locator("select").select_option(label="4")
    settings = ".settings['epochs'], _bplearn_o.settings['batch_size']"
    wait_for(lambda: kernel_attr(nb, "Playground", settings) == "10000 4", "epochs 10000 and batch size 4 in the kernel")
    widget.locator(".jupyter-button", has_text=re.compile(r"^Train$")).click()
    wait_for(lambda: widget.locator(".jupyter-button", has_text="Training…").count() == 1,
             "the Train button to read 'Training…' while training")
    wait_for(lambda: "; training" in text_of(nb, widget), "the status to say training")
    widget.locator(".jupyter-button", has_text=re.compile(r"^Stop$")).click()
    wait_for(lambda: "; stopped" in text_of(nb, widget), "the status to say stopped")
    row = agrees(nb, widget)
    assert f"epoch {row['state']['epoch']}:" in text_of(nb, widget) and not row["state"]["running"]
    widget.locator(".widget-dropdown", has_text="activation").locator("select").select_option(label="relu")
    wait_for(lambda: "new model (activation relu)" in text_of(nb, widget), "the status to say why it rebuilt")
    agrees(nb, widget)


def use_tangent_explorer(nb, widget) -> None:
    x_of = lambda: float(re.search(r"x₀ = (-?[\d.]+)", text_of(nb, widget)).group(1))   # noqa: E731
    start = x_of()
    slider_key(nb, widget.locator(".widget-slider"), "ArrowLeft", f"{start - 0.05:.2f}")   # one step left
    wait_for(lambda: abs(x_of() - (start - 0.05)) < 1e-9, "the keyboard to move x₀ by one step")
    handle = widget.locator(".noUi-handle")
    assert agrees(nb, widget)["state"]["x"] == pytest.approx(start - 0.05)
    box = handle.bounding_box()
    nb.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    nb.page.mouse.down()
    nb.page.mouse.move(box["x"] - 120, box["y"] + box["height"] / 2, steps=8)      # drag to the left
    nb.page.mouse.up()
    wait_for(lambda: x_of() < start - 0.3, "a drag to move x₀ left")
    row = agrees(nb, widget)
    assert f"x₀ = {row['state']['x']:.2f}" in text_of(nb, widget)


USE = {"graphstepper": use_stepper, "networkstepper": use_network_stepper, "bpttstepper": use_bptt_stepper,
       "playground": use_playground, "tangentexplorer": use_tangent_explorer}


def use_every_widget(nb) -> None:
    widgets = nb.widgets()
    for i in range(widgets.count()):
        widget = widgets.nth(i)
        cls = widget.evaluate("el => Array.from(el.classList).find(c => c.startsWith('bplearn-') "
                              "&& c !== 'bplearn-widget')").removeprefix("bplearn-")
        widget.scroll_into_view_if_needed()
        USE[cls](nb, widget)


# --- issue 15, problem by problem -------------------------------------------------------------------------
# These find each widget by what a learner sees in it (a Train button, a "truncate BPTT"
# checkbox, a line starting "epoch"), so they also run against the code before the fix
# and fail there for the reason the issue gives, not for a missing DOM class.
def widget_with(nb, control):
    """The outermost widget box holding ``control`` (a locator on the page)."""
    return nb.page.locator(".jp-OutputArea-output .widget-vbox").filter(has=control).first


def playground_of(nb):
    """The playground: the box with a Stop button (Train is relabelled while training)."""
    return widget_with(nb, nb.page.locator("button.jupyter-button", has_text=re.compile(r"^Stop$")))


def status_of(widget) -> str:
    """The playground's status line, "epoch N: ..."."""
    return " ".join(widget.locator(".widget-html", has_text=re.compile(r"epoch \d+")).first.inner_text().split())


PLAYGROUND_CELLS = [
    "from bplearn.explain import Playground\n"
    "playground = Playground(dataset='moons', hidden_layers=2, width=8, activation='tanh', optimizer='sgd',\n"
    "                        lr=0.1, momentum=0.9, batch_size=32, epochs=30)\n"
    "playground",
    "playground.train()\nplayground.configure(lr=0.01)\nplayground.train()\n"
    "print('CODE-STATE', playground.state['text'])",
]


def test_lab_playground_keeps_the_state_the_code_set_after_run_all(lab, browser):
    """Issue 15, 1: the momentum echo (0.9000000000000001) must not rebuild the trained model."""
    nb = NotebookPage(browser, lab, write_notebook(lab, "playground_state.ipynb", PLAYGROUND_CELLS), ARTIFACTS)
    try:
        nb.run_all()
        printed = re.search(r"CODE-STATE (.*)", nb.outputs_text()).group(1).strip()
        widget = playground_of(nb)
        time.sleep(2.0)                                               # any echo has long arrived
        shown = nb.read(widget)
        assert status_of(widget) == " ".join(printed.split())
        assert float(shown["controls"]["lr"]) == pytest.approx(0.01, rel=0.01)
        assert float(shown["controls"]["momentum"]) == pytest.approx(0.9, abs=0.001)
        check_all(nb)
        no_errors(nb)
    finally:
        nb.close("playground-state.png")


def test_lab_playground_training_ends_with_done_or_stopped(lab, browser):
    """Issue 15, 2: the status must not say "training" after training ends or Stop is pressed."""
    nb = NotebookPage(browser, lab, write_notebook(lab, "playground_training.ipynb", PLAYGROUND_CELLS[:1]),
                      ARTIFACTS)
    try:
        nb.run_all()
        widget = playground_of(nb)
        widget.locator(".jupyter-button", has_text=re.compile(r"^Train$")).click()
        still_training = re.compile(r"\(training\.\.\.\)|; training$")      # the old and the new wording
        wait_for(lambda: status_of(widget).startswith("epoch 30:") and not still_training.search(status_of(widget)),
                 "the status to leave 'training' after the last epoch")
        assert status_of(widget).endswith("; done")
        assert agrees(nb, widget)["state"]["epoch"] == 30
        use_playground(nb, widget)                                   # Train again, Stop, a rebuild
        no_errors(nb)
    finally:
        nb.close("playground-training.png")


BPTT_CELLS = [
    "import numpy as np\nfrom bplearn import nn\nfrom bplearn.explain import BPTTStepper\n"
    "stepper = BPTTStepper(nn.RNN(3, 8, rng=0), np.random.default_rng(1).standard_normal((10, 3)))\nstepper",
    "stepper.set_truncation(5)\nstepper.set_clipping(0.5)\nstepper.run_backward()",
]


def test_lab_bptt_stepper_controls_show_the_truncation_and_clipping_the_code_set(lab, browser):
    """Issue 15, 3: after Run All the checkboxes and sliders say what the picture says."""
    nb = NotebookPage(browser, lab, write_notebook(lab, "bptt_settings.ipynb", BPTT_CELLS), ARTIFACTS)
    try:
        nb.run_all()
        widget = widget_with(nb, nb.page.locator(".widget-checkbox", has_text="truncate BPTT"))
        shown = nb.read(widget)["controls"]
        assert shown["truncate BPTT"] is True and shown["clip gradients"] is True
        assert int(shown["block k"]) == 5 and float(shown["max norm"]) == pytest.approx(0.5)
        check_all(nb)
        widget.locator(".widget-checkbox", has_text="truncate BPTT").locator("input").click()
        wait_for(lambda: "full BPTT" in text_of(nb, widget), "full BPTT after unticking truncation")
        shown = nb.read(widget)["controls"]
        assert shown["clip gradients"] is True and float(shown["max norm"]) == pytest.approx(0.5)
        assert nb.probe.run("print(stepper.clip_norm, stepper.bptt_steps)").split() == ["0.5", "None"]
        agrees(nb, widget)
        no_errors(nb)
    finally:
        nb.close("bptt-settings.png")


def test_lab_error_collection_sees_a_failing_click_handler(lab, browser):
    """The harness itself: an exception in a widget's comm handler must reach nb.errors()."""
    cells = ["import ipywidgets as w\nbroken = w.Button(description='Break')\n"
             "broken.on_click(lambda _b: 1 / 0)\nbroken"]
    nb = NotebookPage(browser, lab, write_notebook(lab, "broken_handler.ipynb", cells), ARTIFACTS)
    try:
        nb.run_all()
        assert nb.errors() == []
        nb.page.locator(".jupyter-button", has_text="Break").click()
        errors = wait_for(lambda: nb.errors(), "the handler's ZeroDivisionError to be collected")
        assert any("ZeroDivisionError" in e for e in errors), errors
    finally:
        nb.close()


def _lessons_with_widgets() -> list[Path]:
    found = []
    for path in sorted((CODE_ROOT / "course").glob("[0-9][0-9]_*.ipynb")):
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        if "ipywidgets" in code or any(name in code for name in WIDGET_CLASSES):
            found.append(path)
    return found


def test_lab_saved_lessons_read_as_text_before_the_kernel_runs(lab, browser):
    """Issue 15, 4: no widget output may fall back to a raw VBox(children=...) repr."""
    problems = []
    for path in _lessons_with_widgets():
        (lab.work / path.name).write_bytes(path.read_bytes())
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        try:
            page.goto(lab.url(path.name))
            page.locator(".jp-OutputArea-output").first.wait_for()
            text = page.evaluate("() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
                                 ".map(o => o.innerText).join('\\n')")
            problems += [f"{path.name}: {m.group(0)}..." for m in RAW_CONTAINER.finditer(text)]
        finally:
            page.close()
            lab.shut_down_sessions()
    assert not problems, "outputs that show a raw container instead of a summary:\n" + "\n".join(problems)


def test_lab_saved_widget_outputs_read_as_their_summaries(lab, browser):
    """Issue 15, 4 for every widget class: executed and saved, then opened without a kernel."""
    name = write_notebook(lab, "saved_outputs.ipynb", EVERY_CLASS_CELLS)
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace", name],
                   cwd=lab.work, env=lab.env, check=True, capture_output=True, timeout=300)
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    try:
        page.goto(lab.url(name))
        page.locator(".jp-OutputArea-output").first.wait_for()
        text = page.evaluate("() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
                             ".map(o => o.innerText).join('\\n')")
    finally:
        page.close()
        lab.shut_down_sessions()
    assert not RAW_CONTAINER.search(text)
    for cls in WIDGET_CLASSES:
        assert f"{cls}:" in text or f"{cls} " in text, f"no readable {cls} summary in the saved outputs"


# --- Notebook 7: each widget class once ----------------------------------------------------------------------
EVERY_CLASS_CELLS = [
    "import numpy as np\nfrom bplearn import nn\n"
    "from bplearn.explain import BPTTStepper, GraphStepper, NetworkStepper, Playground, TangentExplorer",
    "graph = GraphStepper('(w * x + b - t) ** 2', w=0.5, x=2.0, b=0.1, t=1.0)\ngraph",
    "rng = np.random.default_rng(0)\nX, Y = rng.standard_normal((6, 2)), rng.standard_normal((6, 1))\n"
    "model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1))\n"
    "network = NetworkStepper(model, X, Y, nn.MSELoss(), weight=('0.weight', (1, 0)))\nnetwork",
    "bptt = BPTTStepper(nn.LSTM(3, 5, rng=0), rng.standard_normal((8, 3)), clip_norm=0.5)\nbptt",
    "play = Playground(dataset='xor', hidden_layers=1, width=6, optimizer='adam', lr=0.05, momentum=0.9, "
    "epochs=5, n=80)\nplay",
    "tangent = TangentExplorer(lambda x: x**3 - 3*x, lambda x: 3*x**2 - 3, x=1.5, x_range=(-2.5, 2.5),\n"
    "                          y_range=(-6, 6), name='x³ − 3x')\ntangent",
    "graph.goto(3)\nbptt.set_truncation(4)\nplay.configure(batch_size=16)\ntangent.set_x(-1.0)",
]


def test_notebook7_every_widget_class_tells_the_truth(notebook7, browser):
    nb = NotebookPage(browser, notebook7, write_notebook(notebook7, "every_widget.ipynb", EVERY_CLASS_CELLS),
                      ARTIFACTS)
    try:
        nb.run_all()
        kernel = check_all(nb)
        assert sorted(k["class"] for k in kernel) == sorted(WIDGET_CLASSES)
        assert {k["class"]: k["state"].get("step") for k in kernel}["GraphStepper"] == 3     # set in code
        use_every_widget(nb)
        check_all(nb)
        no_errors(nb)
    finally:
        nb.close("notebook7-every-widget.png")


# --- every lesson, in JupyterLab (last: the lessons change while we work) ------------------------------------
@pytest.mark.parametrize("lesson", _lessons_with_widgets(), ids=lambda p: p.stem)
def test_lab_every_lesson(lab, browser, lesson):
    (lab.work / lesson.name).write_bytes(lesson.read_bytes())
    nb = NotebookPage(browser, lab, lesson.name, ARTIFACTS)
    try:
        nb.run_all()
        assert not RAW_CONTAINER.search(nb.outputs_text()), "an output shows a raw VBox(children=...)"
        check_all(nb)
        use_every_widget(nb)
        check_all(nb)
        no_errors(nb)
    finally:
        nb.close(f"lesson-{lesson.stem}.png")
