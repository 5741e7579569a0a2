"""Running the real ``reportgen`` CLI in a subprocess, optionally with a test hook in every process.

The hook is a ``sitecustomize`` module put on PYTHONPATH: every Python process of the run (the
CLI and each worker of its process pool, whatever the start method) imports it at start-up and
wraps ``reportgen.outputs.batch.build_task``.  Environment variables say what the wrapper does:

- ``RGTEST_SLOW``: seconds to sleep before each profile (to keep a batch busy);
- ``RGTEST_DIE_BEFORE``: profile stems (comma-separated) whose worker process dies before building;
- ``RGTEST_DIE_AFTER``: profile stems whose worker process dies right after its draft was written.

A worker is any process with a multiprocessing parent; the CLI's own process never dies.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPORTGEN = str(Path(sys.executable).with_name("reportgen"))

HOOK_SOURCE = '''
import os

def _install():
    import multiprocessing
    import time
    from pathlib import Path

    from reportgen.outputs import batch

    real = batch.build_task
    slow = float(os.environ.get("RGTEST_SLOW") or 0)
    before = set(filter(None, os.environ.get("RGTEST_DIE_BEFORE", "").split(",")))
    after = set(filter(None, os.environ.get("RGTEST_DIE_AFTER", "").split(",")))

    def build_task(run, task, *args, **kwargs):
        stem = Path(task.path).stem if task.path else ""
        in_worker = multiprocessing.parent_process() is not None
        if slow:
            time.sleep(slow)
        if in_worker and stem in before:
            os._exit(1)
        item = real(run, task, *args, **kwargs)
        if in_worker and stem in after:
            os._exit(1)
        return item

    batch.build_task = build_task

if os.environ.get("RGTEST_HOOK"):
    _install()
'''


def hook_env(folder: Path, **settings: object) -> dict[str, str]:
    """The environment of a reportgen subprocess with the hook installed (``settings``: RGTEST_* values)."""
    hooks = folder / "rgtest-hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "sitecustomize.py").write_text(HOOK_SOURCE, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hooks), env.get("PYTHONPATH", "")]))
    env["RGTEST_HOOK"] = "1"
    for key, value in settings.items():
        env[f"RGTEST_{key.upper()}"] = ",".join(value) if isinstance(value, (list, tuple)) else str(value)
    return env


def run_reportgen(*args: str, cwd: Path, env: Mapping[str, str] | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``reportgen ARGS`` as a user runs it; output captured as text."""
    return subprocess.run([REPORTGEN, *args], cwd=cwd, env=dict(env) if env is not None else None,
                          capture_output=True, text=True, timeout=timeout, check=False)


@contextmanager
def reaping_orphans() -> Iterator[None]:
    """Make this process the reaper of orphaned descendants (Linux), and reap them on the way out.

    A batch killed with ``kill -9`` leaves its pool workers orphaned; where PID 1 does not reap (some
    containers), they would stay zombies and still look "alive" to a process-id probe.  A normal
    system reaps them at once; this gives the test the same conditions.
    """
    libc = None
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            libc = None
    try:
        yield
    finally:
        if libc is not None:
            reap()
            libc.prctl(36, 0, 0, 0, 0)


def reap() -> None:
    """Collect every child that has ended (zombies) without waiting for running ones."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
