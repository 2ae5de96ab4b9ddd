"""Run the learner's side (``runner.py``) in a sandbox, with limits on the whole process tree.

On Linux with bubblewrap (``bwrap``):

* the filesystem is an allow-list: only the Python installation, the installed bplearn
  package and a few files from /etc are mounted, read-only; the job's work folder is the
  only writable place (``/submission``), plus a small private /tmp. solutions/, hidden
  tests, the gradebook, results and other students' folders are simply not there;
* no network (own network namespace: not even the host's 127.0.0.1), own PID, IPC and UTS
  namespaces (no other kernel can be seen, signalled or connected to), a new session, and
  the sandbox dies with the job;
* when the job runs as root, bwrap starts privileged and the command inside drops to a
  dedicated unprivileged user (``bplearn-grader`` if it exists, else ``nobody``) with
  ``setpriv`` before any learner code runs, so on the host too the code is not root;
* memory and process-count limits hold for the whole tree through a cgroup (v1 or v2)
  when the job may create one; otherwise per-process rlimits are used and the result says
  so. CPU time, file size and core dumps are rlimits; wall time is enforced here; stdout
  and stderr are kept up to a number of BYTES.

Without bubblewrap (macOS, Windows, a Linux without it) the runner still runs in its own
process, with per-process limits where the platform has them; the result says
"isolation: none". The judge's separation does not depend on the sandbox: the trusted
process never runs learner code either way.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from ..errors import SandboxError

GRADER_USER = "bplearn-grader"
INSIDE = "/submission"
BPLEARN_DIR = Path(__file__).resolve().parents[1]   # the bplearn package grading now: the one the runner must import
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group")


@dataclass
class Limits:
    """wall, cpu: seconds for the whole run. memory_mb, pids: for the whole process tree
    (cgroup) or per process (fallback). output_bytes: stdout and stderr kept, each.
    file_mb: largest file the learner's code may write. cell_timeout: seconds per cell/probe."""

    wall: float = 60.0
    cpu: int = 60
    memory_mb: int = 1024
    pids: int = 64
    output_bytes: int = 64 * 1024
    file_mb: int = 64
    cell_timeout: float = 20.0


@dataclass
class Outcome:
    """How the sandboxed run ended. status: ok / timeout / memory / crashed."""

    status: str
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    isolation: str
    limits: str
    user: str

    def describe(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("stdout", "stderr")}


# --- what is available ------------------------------------------------------------------------

def bwrap_path() -> str | None:
    return shutil.which("bwrap") if sys.platform.startswith("linux") else None


def sandbox_required() -> bool:
    """CI and instructors can insist: BPLEARN_REQUIRE_SANDBOX=1 (CI sets it), or CI=true."""
    return os.environ.get("BPLEARN_REQUIRE_SANDBOX") == "1" or os.environ.get("CI", "").lower() == "true"


def grader_ids() -> tuple[str, int, int]:
    """(name, uid, gid) of the user learner code runs as when the job is root."""
    import pwd

    for name in (GRADER_USER, "nobody"):
        try:
            entry = pwd.getpwnam(name)
            return name, entry.pw_uid, entry.pw_gid
        except KeyError:
            continue
    return "nobody", 65534, 65534


# --- cgroups ------------------------------------------------------------------------------------

class TreeLimits:
    """A cgroup (v2, or v1 memory + pids) holding the sandbox's whole process tree."""

    def __init__(self, limits: Limits):
        self.dirs: list[Path] = []
        name = f"bplearn-{uuid.uuid4().hex[:12]}"
        memory = limits.memory_mb << 20
        if os.geteuid() != 0:
            return
        try:
            if Path("/sys/fs/cgroup/cgroup.controllers").exists():   # v2, unified
                self._make(Path("/sys/fs/cgroup") / _own_cgroup("") / name,
                           {"memory.max": memory, "pids.max": limits.pids, "memory.swap.max": 0})
            else:                                                      # v1: one hierarchy per controller
                self._make(Path("/sys/fs/cgroup/memory") / _own_cgroup("memory") / name,
                           {"memory.limit_in_bytes": memory})
                self._make(Path("/sys/fs/cgroup/pids") / _own_cgroup("pids") / name, {"pids.max": limits.pids})
        except OSError:
            self.remove()
            self.dirs = []

    def _make(self, path: Path, settings: dict) -> None:
        path.mkdir()
        self.dirs.append(path)
        for key, val in settings.items():
            if (path / key).exists():
                (path / key).write_text(str(val))

    @property
    def active(self) -> bool:
        return bool(self.dirs)

    def enter(self) -> None:
        """In the child before exec: move this process (and so all its descendants) in."""
        for path in self.dirs:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def out_of_memory(self) -> bool:
        for path in self.dirs:
            for file, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
                try:
                    fields = dict(line.split() for line in (path / file).read_text().splitlines())
                except (OSError, ValueError):
                    continue
                if int(fields.get(key, 0)) > 0:
                    return True
        return False

    def kill_all(self) -> None:
        """SIGKILL every process left in the group (detached ones included)."""
        for _ in range(50):
            pids = [int(p) for path in self.dirs for p in _read(path / "cgroup.procs").split()]
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        for path in reversed(self.dirs):
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)


def _own_cgroup(controller: str) -> str:
    """This process's cgroup path in a hierarchy ("" for v2), relative, so limits nest inside ours."""
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        _, controllers, path = line.split(":", 2)
        if (controller and controller in controllers.split(",")) or (not controller and controllers == ""):
            return path.lstrip("/")
    return ""


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


# --- the command --------------------------------------------------------------------------------

def _python_binds() -> list[str]:
    """What the runner needs to import: the Python installation, site-packages, bplearn."""
    import site

    import numpy

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent,
             BPLEARN_DIR, Path(numpy.__file__).resolve().parent.parent}
    paths |= {Path(p) for p in site.getsitepackages() if Path(p).exists()}
    ordered = sorted({str(p.resolve()) for p in paths})
    return [p for p in ordered if not any(p != q and p.startswith(q + os.sep) for q in ordered)]


def runner_command(workdir: str) -> list[str]:
    """``python -I`` running ``bplearn.grading.runner`` on ``workdir`` from this process's bplearn.

    -I keeps the learner's environment (PYTHONPATH, the current folder) out of the runner, but
    then Python imports bplearn from wherever it is installed, which need not be the bplearn
    grading now (a second checkout, a copy): the sandbox shows only this one, so its folder
    goes first on the runner's sys.path.
    """
    home = str(BPLEARN_DIR.parent)
    start = (f"import runpy, sys; sys.path.insert(0, {home!r}); "
             "runpy.run_module('bplearn.grading.runner', run_name='__main__')")
    return [sys.executable, "-I", "-c", start, workdir]


def _parents(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def bwrap_command(workdir: Path, limits: Limits, secrets=()) -> tuple[list, str]:
    """(argv, user description) of the sandboxed runner. secrets: folders that must stay unseen."""
    binds = _python_binds()
    for secret in map(lambda s: str(Path(s).resolve()), secrets):
        clash = [b for b in binds if secret == b or secret.startswith(b + os.sep)]
        if clash:
            raise SandboxError(f"the Python installation {clash[0]} contains {secret}, which learner code must not "
                               "see: install bplearn in a virtual environment outside the course folder")
    # /tmp first: binds made later sit on top of it, so a Python or bplearn that lives under
    # /tmp (a CI checkout, a throwaway venv) stays visible inside the sandbox
    argv = [bwrap_path(), "--ro-bind", "/usr", "/usr",
            "--size", str(limits.file_mb << 20), "--perms", "1777", "--tmpfs", "/tmp"]
    for link in ("bin", "lib", "lib64", "sbin"):
        if os.path.islink(f"/{link}"):
            argv += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    made = {"/usr"}
    for path in binds:
        for parent in _parents(path):
            if parent not in made and not parent.startswith("/usr"):
                argv += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        if not path.startswith("/usr/"):
            argv += ["--ro-bind", path, path]
    argv += ["--perms", "0755", "--dir", "/etc"]
    for f in _ETC_FILES:
        argv += ["--ro-bind-try", f, f]
    argv += ["--bind", str(workdir), INSIDE, "--dev", "/dev", "--proc", "/proc",
             "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
             "--die-with-parent", "--new-session", "--chdir", INSIDE]
    python = runner_command(INSIDE)
    if os.geteuid() == 0:
        name, uid, gid = grader_ids()
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "setpriv", f"--reuid={uid}",
                 f"--regid={gid}", "--clear-groups", "--no-new-privs", *python]
        return argv, f"{name} (uid {uid})"
    argv += ["--unshare-user", *python]
    return argv, f"uid {os.geteuid()} (the grading user, in a user namespace)"


def _environment() -> dict:
    return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": "/tmp", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}


def _preexec(limits: Limits, tree: TreeLimits | None, per_process: bool):
    def apply() -> None:
        import resource

        if tree is not None:
            tree.enter()
        cpu = int(limits.cpu)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb << 20, limits.file_mb << 20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if per_process:
            memory = limits.memory_mb << 20
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            if hasattr(resource, "RLIMIT_NPROC") and os.geteuid() != 0:
                resource.setrlimit(resource.RLIMIT_NPROC, (limits.pids, limits.pids))
    return apply


# --- running ------------------------------------------------------------------------------------

def prepare_workdir(workdir: Path) -> None:
    """Inputs readable but not replaceable by the learner; out/ writable by the learner's user."""
    out = workdir / "out"
    out.mkdir(exist_ok=True)
    os.chmod(workdir, 0o755)
    for f in workdir.iterdir():
        if f.is_file():
            os.chmod(f, 0o644)
    if os.geteuid() == 0 and bwrap_path():
        _, uid, gid = grader_ids()
        os.chown(out, uid, gid)
    os.chmod(out, 0o700)


def run(workdir: Path, limits: Limits, *, mode: str = "auto", secrets=()) -> Outcome:
    """Run the runner on ``workdir``. mode: "auto" (sandbox if available), "require", "off"."""
    workdir = Path(workdir).resolve()
    use_bwrap = mode != "off" and bwrap_path() is not None
    if mode == "require" and not use_bwrap:
        raise SandboxError("bubblewrap (bwrap) is required but not found: install it (apt-get install "
                           "bubblewrap) or grade without BPLEARN_REQUIRE_SANDBOX")
    prepare_workdir(workdir)
    if use_bwrap:
        argv, user = bwrap_command(workdir, limits, secrets)
        isolation, cwd = "bubblewrap", "/"
    else:
        argv = runner_command(str(workdir))
        user, isolation, cwd = f"uid {os.getuid()}" if hasattr(os, "getuid") else "the grading user", "none", workdir
    tree = TreeLimits(limits) if sys.platform.startswith("linux") else None
    tree = tree if tree is not None and tree.active else None
    kind = "cgroup (memory and pids of the whole process tree)" if tree else "per-process rlimits (no cgroup)"
    try:
        return _execute(argv, cwd, limits, tree, isolation, kind, user)
    finally:
        if tree is not None:
            tree.kill_all()
            tree.remove()


def _execute(argv, cwd, limits, tree, isolation, kind, user) -> Outcome:
    started = time.monotonic()
    posix = os.name == "posix"
    process = subprocess.Popen(argv, cwd=cwd, env=_environment(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=posix,
                               preexec_fn=_preexec(limits, tree, tree is None) if posix else None)
    out, err = _Drain(process.stdout, limits.output_bytes), _Drain(process.stderr, limits.output_bytes)
    timed_out = False
    try:
        process.wait(timeout=limits.wall)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(process)
    if tree is not None:
        tree.kill_all()   # a child that detached itself from the session is still in the cgroup
    out.join(), err.join()
    seconds = time.monotonic() - started
    code = process.returncode
    if timed_out or code in (-signal.SIGXCPU, 128 + signal.SIGXCPU) or (code == -signal.SIGKILL and seconds > limits.cpu):
        status = "timeout"
    elif tree is not None and tree.out_of_memory():
        status = "memory"
    else:
        status = "ok" if code == 0 else "crashed"
    return Outcome(status, code, out.text(), err.text(), round(seconds, 2), isolation, kind, user)


def _kill_group(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.kill()
    process.wait()


class _Drain(threading.Thread):
    """Read a pipe to the end, keeping only the first ``cap`` bytes (one huge line costs nothing)."""

    def __init__(self, pipe, cap: int):
        super().__init__(daemon=True)
        self.pipe, self.cap, self.kept, self.dropped = pipe, cap, bytearray(), 0
        self.start()

    def run(self) -> None:
        while True:
            chunk = self.pipe.read1(65536) if hasattr(self.pipe, "read1") else self.pipe.read(65536)
            if not chunk:
                break
            room = self.cap - len(self.kept)
            self.kept += chunk[:max(room, 0)]
            self.dropped += max(len(chunk) - max(room, 0), 0)
        self.pipe.close()

    def text(self) -> str:
        text = self.kept.decode("utf-8", errors="replace")
        return text + (f"\n[... {self.dropped} more bytes of output were cut]" if self.dropped else "")
