"""The stepper as a learner sees it: JupyterLab in headless Chromium, a real click on Step.

Starts JupyterLab on 127.0.0.1 (free port, random token) with a copy of
tests/browser/stepper_demo.ipynb, runs all cells, clicks the GraphStepper's Step
button and checks that the displayed step, text and picture change, then runs the
NetworkStepper's backward pass and checks its text. Saves a
screenshot to test-artifacts/stepper.png, then shuts the kernel and the server down.

Skipped (with the reason) only when /usr/bin/chromium is missing and
BPLEARN_REQUIRE_BROWSER is not "1"; CI sets it, so there a missing browser fails.
"""
import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
NOTEBOOK = ROOT / "tests" / "browser" / "stepper_demo.ipynb"
SCREENSHOT = ROOT / "test-artifacts" / "stepper.png"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def _require(what: str, ok: bool) -> None:
    if ok:
        return
    if os.environ.get("BPLEARN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} is required (BPLEARN_REQUIRE_BROWSER=1) but missing")
    pytest.skip(f"{what} is missing: install it (apt-get install chromium; pip install playwright) to run this test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


def _wait_for_idle_kernel(base: str, token: str, seconds: float = 30) -> None:
    """Until the notebook's kernel has started and is idle (the page alone can look idle earlier)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sessions = _api(base, token, "/api/sessions") or []
        if sessions and all(s["kernel"]["execution_state"] == "idle" for s in sessions):
            return
        time.sleep(0.2)
    pytest.fail(f"the notebook's kernel did not become idle within {seconds} s")


@pytest.fixture
def jupyter_lab(tmp_path):
    """(base url, token, notebook name) of a JupyterLab serving a copy of the demo notebook."""
    work = tmp_path / "notebooks"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    settings = tmp_path / "lab-settings" / "@jupyterlab"
    for plugin, values in [("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False}),
                           ("notebook-extension/tracker", {"autoStartDefaultKernel": True})]:
        path = settings / f"{plugin}.jupyterlab-settings"   # no news popup, no "Select Kernel" dialog
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ,
               # user-level dirs to tmp; the venv's own share/jupyter (labextensions, kernels) stays visible
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), IPYTHONDIR=str(tmp_path / "ipython"),
               MPLCONFIGDIR=str(tmp_path / "mpl"), JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp_path / "jupyter.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _api(base, token, "/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyter.log").read_text()[-3000:])
                time.sleep(0.3)
        yield base, token, NOTEBOOK.name
    finally:
        try:
            for session in _api(base, token, "/api/sessions") or []:
                _api(base, token, f"/api/sessions/{session['id']}", method="DELETE")
        except OSError:
            pass
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_clicking_step_in_jupyterlab_advances_the_graph_stepper(jupyter_lab):
    _require(CHROMIUM, os.path.exists(CHROMIUM))
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _require("the playwright Python package", False)
    base, token, name = jupyter_lab
    SCREENSHOT.parent.mkdir(exist_ok=True)
    expect.set_options(timeout=20_000)                      # a loaded CI machine can be slow to redraw
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1800})
            page.set_default_timeout(30_000)
            page.goto(f"{base}/lab/tree/{name}?reset&token={token}")
            _wait_for_idle_kernel(base, token)
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator("li[data-command='runmenu:run-all']").click()

            text = page.locator(".bplearn-step-text").first
            expect(text).to_contain_text("step 0 of 15")
            expect(text).to_contain_text("w = 0.5")
            image = page.locator(".widget-image").first
            expect(image).to_have_attribute("src", re.compile(r"^(blob|data):"))     # the PNG has arrived
            before = image.get_attribute("src")

            page.locator(".jupyter-button", has_text="Step").filter(has_not_text="back").first.click()
            expect(text).to_contain_text("step 1 of 15")
            expect(text).to_contain_text("x = 2")
            expect(image).not_to_have_attribute("src", before)

            page.locator(".jupyter-button", has_text="Run backward").first.click()
            expect(text).to_contain_text("step 15 of 15")
            expect(text).to_contain_text("dL/dx = dL/dn2 · dn2/dx = 0.2 × 0.5 = 0.1")

            network_text = page.locator(".bplearn-step-text").nth(1)       # the NetworkStepper below
            expect(network_text).to_contain_text("step 0 of 7")
            page.locator(".jupyter-button", has_text="Run backward").nth(1).click()
            expect(network_text).to_contain_text("step 7 of 7")
            expect(network_text).to_contain_text("dL/d0.weight[1, 0]")
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        except Exception:
            page.screenshot(path=str(SCREENSHOT.with_name("stepper-failure.png")), full_page=True)
            raise
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
