"""What tests/test_browser.py needs to drive widgets as a learner would.

* ``JupyterServer``  JupyterLab or Notebook 7 on 127.0.0.1 (free port, random token),
                     with user settings, data and runtime dirs in a temporary folder;
* ``KernelProbe``    a second client of the notebook's own kernel: it asks the kernel
                     what state each bplearn widget holds, and listens on the kernel's
                     broadcast channel for errors (tracebacks from comm handlers and
                     threads end up there as error or stderr messages);
* ``NotebookPage``   one notebook in the browser: open, Run All, wait, read widgets,
                     collect console errors.

Widgets are found by DOM class (``.bplearn-widget``, ``.bplearn-<class>``,
``.bplearn-step-text``, ``.bplearn-picture``) and controls by their descriptions, never
by cell index or prose, because the lessons change.
"""
from __future__ import annotations

import json
import math
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from html import unescape
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]


class BrowserTestError(AssertionError):
    """A widget showed something other than its state, or an error was collected."""


# --- the server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterServer:
    """``kind`` "lab" (JupyterLab) or "notebook" (Notebook 7) serving the folder ``work``."""

    SETTINGS = {   # no news popup, no "Select Kernel" dialog, every cell kept in the DOM
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "notebook-extension/tracker": {"autoStartDefaultKernel": True, "windowingMode": "none"},
    }

    def __init__(self, kind: str, tmp: Path, pythonpath: str):
        self.kind, self.tmp = kind, tmp
        self.work = tmp / "notebooks"
        self.work.mkdir(parents=True, exist_ok=True)
        for plugin, values in self.SETTINGS.items():
            if kind != "lab" and plugin.startswith("apputils"):
                continue                      # Notebook 7 has no news popup to switch off
            path = tmp / "lab-settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.runtime = tmp / "runtime"
        self.env = dict(os.environ,
                        JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"),
                        JUPYTER_RUNTIME_DIR=str(self.runtime), IPYTHONDIR=str(tmp / "ipython"),
                        MPLCONFIGDIR=str(tmp / "mpl"), JUPYTERLAB_SETTINGS_DIR=str(tmp / "lab-settings"),
                        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), MPLBACKEND="Agg",
                        OPENBLAS_NUM_THREADS="1", PYTHONPATH=pythonpath)
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"{kind}.log"
        module = "jupyterlab" if kind == "lab" else "notebook"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, "--allow-root", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.work}"],
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT, cwd=self.work)
        self._wait_until_up()

    def _wait_until_up(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.api("/api/status")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self._log.flush()
                    raise BrowserTestError(f"{self.kind} did not start:\n{self.log()[-3000:]}")
                time.sleep(0.3)

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.base}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def url(self, name: str) -> str:
        if self.kind == "lab":
            return f"{self.base}/lab/tree/{name}?reset&token={self.token}"
        return f"{self.base}/notebooks/{name}?token={self.token}"

    def session(self, name: str, seconds: float = 60) -> dict:
        """The session of notebook ``name`` once its kernel is idle."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for s in self.api("/api/sessions") or []:
                if s["path"].endswith(name) and s["kernel"]["execution_state"] == "idle":
                    return s
            time.sleep(0.2)
        raise BrowserTestError(f"the kernel of {name} did not start and become idle within {seconds} s")

    def shut_down_sessions(self) -> None:
        for s in self.api("/api/sessions") or []:
            self.api(f"/api/sessions/{s['id']}", method="DELETE")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        try:
            self.shut_down_sessions()
        except OSError:
            pass
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


# --- the kernel, asked directly ---------------------------------------------------------------------
PROBE = r'''
def _bplearn_probe():
    import hashlib, json
    from ipywidgets import Button, Image, Widget

    def leaves(w):
        for child in getattr(w, "children", ()):
            yield from leaves(child)
        if not getattr(w, "children", ()):
            yield w

    def root_of(obj):
        own = obj.__dict__
        root = own.get("_widget")
        controls = own.get("_controls")
        return root if root is not None else getattr(controls, "box", None)

    found, seen = [], set()
    names = sorted(globals().items(), key=lambda item: item[0].startswith("_"))   # Out[] aliases (_, _5) last
    for name, obj in names:
        if not type(obj).__module__.startswith("bplearn.explain.widgets") or not hasattr(obj, "summary"):
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        root = root_of(obj)
        if not isinstance(root, Widget):
            continue
        row = {"variable": name, "class": type(obj).__name__, "controls": {}, "text": None, "png": None,
               "state": {k: v for k, v in getattr(obj, "state", {}).items() if isinstance(v, (int, float, str))}}
        for w in leaves(root):
            if "bplearn-step-text" in getattr(w, "_dom_classes", ()):
                row["text"] = w.value
            elif isinstance(w, Image):
                row["png"] = hashlib.sha256(w.value).hexdigest()
            elif getattr(w, "description", "") and hasattr(w, "value") and not isinstance(w, Button):
                value = w.label if hasattr(w, "label") and hasattr(w, "options") else w.value
                row["controls"][w.description] = value if isinstance(value, (int, float, str, bool)) else str(value)
        row["buttons"] = {w.description: {"disabled": w.disabled} for w in leaves(root) if isinstance(w, Button)}
        found.append(row)
    print("BPLEARN-PROBE" + json.dumps(found))

_bplearn_probe()
del _bplearn_probe
'''


class KernelProbe:
    """A second client of a notebook's kernel (its connection file is in the runtime dir)."""

    ERROR_MARKS = ("Traceback (most recent call last)", "Exception in comm", "Error in observer")

    def __init__(self, server: JupyterServer, session: dict):
        from jupyter_client import BlockingKernelClient

        self.client = BlockingKernelClient(connection_file=str(server.runtime / f"kernel-{session['kernel']['id']}.json"))
        self.client.load_connection_file()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=30)
        self.errors: list[str] = []
        self._handshake()

    def _handshake(self, tries: int = 20) -> None:
        """Until our broadcast subscription really receives (ZeroMQ drops the first messages
        of a fresh subscriber), so no probe answer and no error report is lost."""
        for _ in range(tries):
            if "BPLEARN-READY" in self.run("print('BPLEARN-READY')", timeout=10):
                return
        raise BrowserTestError("the kernel's broadcast channel never delivered our output")

    def _note(self, msg: dict) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "error":
            self.errors.append(f"{content['ename']}: {content['evalue']}\n" + "\n".join(content["traceback"])[-2000:])
        elif kind == "stream" and content["name"] == "stderr" and any(m in content["text"] for m in self.ERROR_MARKS):
            self.errors.append(content["text"][-2000:])

    def drain(self, seconds: float = 0.2) -> None:
        """Read every broadcast message that has arrived, noting errors from any cell or comm."""
        end = time.monotonic() + seconds
        while True:
            try:
                self._note(self.client.get_iopub_msg(timeout=max(0.01, end - time.monotonic())))
            except Exception:                                     # queue.Empty: nothing more for now
                if time.monotonic() >= end:
                    return

    def run(self, code: str, timeout: float = 60) -> str:
        """Execute ``code`` in the kernel (no history, no output in the notebook); its stdout."""
        msg_id = self.client.execute(code, store_history=False, allow_stdin=False)
        out, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.client.get_iopub_msg(timeout=1)
            except Exception:
                continue
            self._note(msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
        raise BrowserTestError(f"the kernel did not answer within {timeout} s")

    def widgets(self) -> list[dict]:
        """Each displayed bplearn widget: class, variable, controls, text HTML, PNG hash, state."""
        out = self.run(PROBE)
        line = next((ln for ln in out.splitlines() if ln.startswith("BPLEARN-PROBE")), None)
        if line is None:
            raise BrowserTestError(f"the probe printed nothing usable:\n{out[-2000:]}")
        return json.loads(line[len("BPLEARN-PROBE"):])

    def close(self) -> None:
        self.client.stop_channels()


# --- the page ------------------------------------------------------------------------------------------
READ_WIDGET = r'''async (el) => {
  const label = (c) => (c.querySelector(':scope > .widget-label-basic > span')
                        || c.querySelector(':scope > .widget-label') || {}).textContent || '';
  const controls = {};
  for (const c of el.querySelectorAll('.widget-slider, .widget-checkbox, .widget-dropdown, .widget-text')) {
    const name = label(c).trim();
    if (!name) continue;
    if (c.classList.contains('widget-slider')) controls[name] = c.querySelector('.widget-readout').textContent.trim();
    else if (c.classList.contains('widget-checkbox')) controls[name] = c.querySelector('input').checked;
    else if (c.classList.contains('widget-dropdown')) {
      const s = c.querySelector('select'); controls[name] = s.selectedIndex >= 0 ? s.options[s.selectedIndex].text : null;
    } else controls[name] = c.querySelector('input').value;
  }
  const buttons = {};
  for (const b of el.querySelectorAll('button.jupyter-button')) buttons[b.textContent.trim()] = {disabled: b.disabled};
  const textEl = el.querySelector('.bplearn-step-text');
  const img = el.querySelector('img.bplearn-picture');
  let png = null;
  if (img && img.src) {
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    png = Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, '0')).join('');
  }
  const cls = Array.from(el.classList).find(c => c.startsWith('bplearn-') && c !== 'bplearn-widget');
  return {cls, controls, buttons, text: textEl ? textEl.innerText : null, png};
}'''


def html_to_text(value: str | None) -> str:
    """The text a browser shows for a widget's HTML value, whitespace normalised."""
    if value is None:
        return ""
    return normalise(unescape(re.sub(r"<[^>]+>", "", value.replace("<br>", "\n"))))


def normalise(text: str | None) -> str:
    return " ".join((text or "").split())


def same_control(shown, value) -> bool:
    """A control's displayed value against the kernel's: numbers to the readout's precision."""
    if isinstance(value, bool) or isinstance(shown, bool):
        return shown == value
    if isinstance(value, (int, float)):
        try:
            number = float(str(shown).replace("\u2212", "-"))     # readouts write minus as U+2212
            return math.isclose(number, float(value), rel_tol=0.01, abs_tol=0.006)
        except (TypeError, ValueError):
            return False
    return normalise(str(shown)) == normalise(str(value))      # a dropdown shows spaces as no-break spaces


# Errors a front end itself throws while it loads, before any cell runs: seen on a notebook
# holding only "1+1", with or without extensions and user settings (Notebook 7.6.5). Only
# these exact messages, and only during page load, are not held against the widgets.
LOAD_ERRORS = {"notebook": ("page error: Cannot read properties of undefined (reading 'schema')",)}


class NotebookPage:
    """One notebook open in the browser, with console errors collected."""

    def __init__(self, browser, server: JupyterServer, name: str, artifacts: Path):
        self.server, self.name, self.artifacts = server, name, artifacts
        self.page = browser.new_page(viewport={"width": 1400, "height": 1800})
        self.page.set_default_timeout(60_000)
        self.console_errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(f"page error: {e}\n{e.stack or ''}"[:1500]))
        self.page.goto(server.url(name))
        self.session = server.session(name)
        self.page.locator(".jp-Notebook").first.wait_for()
        self.probe = KernelProbe(server, self.session)
        self.wait_idle()
        known = LOAD_ERRORS.get(server.kind, ())
        self.console_errors = [e for e in self.console_errors if not e.startswith(known)]

    def wait_idle(self, seconds: float = 120) -> None:
        """Until the kernel is idle and no cell is queued or running ([*])."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            busy = self.page.evaluate("""() => Array.from(document.querySelectorAll('.jp-InputPrompt'))
                                             .some(p => p.textContent.includes('*'))""")
            state = [s for s in self.server.api("/api/sessions") or [] if s["id"] == self.session["id"]]
            if not busy and state and state[0]["kernel"]["execution_state"] == "idle":
                return
            time.sleep(0.3)
        raise BrowserTestError(f"{self.name}: still running after {seconds} s")

    def run_all(self) -> None:
        """Run every cell from the Run menu, as a learner would, and wait for the end."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).first.click()
        self.page.locator("li[data-command='runmenu:run-all']").click()
        time.sleep(1.0)                                  # let the first cells be queued
        self.wait_idle()
        self.settle()

    def settle(self, seconds: float = 1.5) -> None:
        """Give the browser's echoes of freshly rendered widgets time to reach the kernel."""
        time.sleep(seconds)
        self.wait_idle()

    def widgets(self, selector: str = ".bplearn-widget"):
        return self.page.locator(selector)

    def read(self, locator) -> dict:
        return locator.evaluate(READ_WIDGET)

    def outputs_text(self) -> str:
        """The text of every output area (what a reader sees before or after running)."""
        return self.page.evaluate("""() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))
                                         .map(o => o.innerText).join('\\n')""")

    def check_widget_shows_kernel_state(self, locator, kernel: list[dict]) -> dict:
        """The widget in the browser shows exactly what its kernel object holds; returns that object."""
        shown = self.read(locator)
        cls = shown["cls"].removeprefix("bplearn-")
        rows = [k for k in kernel if k["class"].lower() == cls]
        same_text = [row for row in rows if normalise(shown["text"]) == html_to_text(row["text"])]
        problems = {row["variable"]: compare_views(shown, row) for row in same_text}   # two widgets may say the same
        for row in same_text:
            if not problems[row["variable"]]:
                return row
        if same_text:
            raise BrowserTestError(f"{self.name}: " + "; ".join(
                f"{row['class']} {row['variable']}: " + "; ".join(problems[row["variable"]]) for row in same_text))
        raise BrowserTestError(f"{self.name}: the {cls} text in the browser is\n  {normalise(shown['text'])!r}\n"
                               f"but the kernel's widgets of that class show\n  "
                               + "\n  ".join(repr(html_to_text(r["text"])) for r in rows))

    def errors(self) -> list[str]:
        self.probe.drain()
        return [f"browser console: {e}" for e in self.console_errors] + [f"kernel: {e}" for e in self.probe.errors]

    def close(self, screenshot: str | None = None) -> None:
        if screenshot:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(self.artifacts / screenshot), full_page=True)
        self.probe.close()
        self.page.close()
        self.server.shut_down_sessions()


def compare_views(shown: dict, kernel: dict) -> list[str]:
    """Every way the browser's controls, buttons and picture differ from the kernel's widget."""
    problems = []
    for name, value in kernel["controls"].items():
        if name not in shown["controls"]:
            problems.append(f"control {name!r} is missing in the browser")
        elif not same_control(shown["controls"][name], value):
            problems.append(f"control {name!r} shows {shown['controls'][name]!r}, the kernel holds {value!r}")
    for name, state in kernel.get("buttons", {}).items():
        if name in shown["buttons"] and shown["buttons"][name]["disabled"] != state["disabled"]:
            problems.append(f"button {name!r} disabled={shown['buttons'][name]['disabled']} in the browser")
    if kernel["png"] and shown["png"] != kernel["png"]:
        problems.append("the picture in the browser is not the kernel's current picture")
    return problems
