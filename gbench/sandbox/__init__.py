"""The sandbox around plugin code: what it enforces, how strongly, and the process that
hosts it.

Levels, strongest first (recorded with every result as ``sandbox``):

``bwrap``
    bubblewrap: new mount, PID, network, IPC, UTS and user namespaces; a root holding only
    the policy's read-only paths (:mod:`gbench.sandbox.policy`) and a private tmpfs; all
    capabilities dropped; the zygote not dumpable.
``landlock+netns``
    where bubblewrap is absent: Landlock allows only the same paths (``/proc`` included in
    what is hidden), a new user and network namespace, no capabilities, no new privileges.
``none``
    a plain child process: plugin code can read files and open sockets. Used only when
    forced off or when neither mechanism is available, with a warning naming what is
    missing.

At every level but ``none`` each job also runs under seccomp (no new processes, no
sockets but Unix ones) with address-space and open-file limits.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, ClassVar, get_args

from gbench.errors import GbenchError
from gbench.record import SandboxLevel
from gbench.sandbox.policy import BWRAP_TMP, Policy, bwrap_command

LEVELS: tuple[SandboxLevel, ...] = get_args(SandboxLevel)
PRELOAD = ("torch", "torch._dynamo", "torch_geometric", "gbench.runner.child", "gbench.propagation")
ENV_KEEP = ("LANG", "LC_ALL", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES")


class ZygoteDied(Exception):
    """The zygote is gone (killed by a job, or crashed): its jobs failed, start another."""


@dataclass(frozen=True)
class Support:
    """The strongest level this machine gives, and what is missing for a stronger one."""

    level: SandboxLevel
    missing: str = ""


@cache
def support() -> Support:
    """Probe once: bubblewrap, else Landlock with namespaces, else nothing."""
    from gbench.sandbox import kernel

    missing = []
    if shutil.which("bwrap"):
        probe = subprocess.run(
            [*bwrap_command(Policy((Path("/usr"), Path("/lib"), Path("/lib64")), ())), "true"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0:
            return Support("bwrap", _seccomp_missing())
        missing.append(f"bwrap cannot start ({probe.stderr.strip().splitlines()[-1:]})")
    else:
        missing.append("bubblewrap is not installed (apt install bubblewrap)")
    if kernel.landlock_abi() < 1:
        missing.append("the kernel has no Landlock")
        return Support("none", "; ".join(missing))
    probe = subprocess.run(
        [sys.executable, "-c", "from gbench.sandbox import kernel; kernel.new_network_namespace()"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        missing.append("user namespaces are disabled")
        return Support("none", "; ".join(missing))
    return Support("landlock+netns", "; ".join([*missing, _seccomp_missing()]).strip("; "))


def _seccomp_missing() -> str:
    try:
        import pyseccomp  # noqa: F401
    except OSError:
        return "libseccomp is missing: jobs may fork and open sockets"
    return ""


def choose(wanted: str) -> Support:
    """The level for ``--sandbox`` (auto, or a level name); asking for more than the machine
    gives is an error naming what is missing."""
    if wanted not in ("auto", *LEVELS):
        raise GbenchError(f"--sandbox {wanted}: choose auto, {', '.join(LEVELS)}")
    if wanted == "none":
        return Support("none", "the sandbox was turned off (--sandbox none)")
    best = support()
    if wanted != "auto" and LEVELS.index(best.level) > LEVELS.index(wanted):
        raise GbenchError(f"--sandbox {wanted} is not available here: {best.missing}")
    return best if wanted == "auto" else Support(wanted, best.missing)  # type: ignore[arg-type]  # checked above


class Zygote:
    """The parent's handle on one sandboxed zygote (see :mod:`gbench.sandbox.zygote`)."""

    largest_message: ClassVar[int] = 0  # bytes of the largest job sent (perf/scale.py)

    def __init__(self, level: SandboxLevel, policy: Policy) -> None:
        self.level = level
        self._tmp = tempfile.TemporaryDirectory(prefix="gbench-sandbox-")
        inner_tmp = BWRAP_TMP if level == "bwrap" else self._tmp.name
        config = {
            "level": level,
            "read_only": [str(p) for p in policy.read_only],
            "sys_path": list(policy.sys_path),
            "tmp": inner_tmp,
            "memory_bytes": policy.memory_bytes,
            "open_files": policy.open_files,
            "preload": list(PRELOAD),
        }
        self.ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        boot = (
            "import sys, json; sys.path[:] = json.loads(sys.argv[2])['sys_path']; "
            "from gbench.sandbox.zygote import main; main()"
        )
        argv = [sys.executable, "-I", "-c", boot, str(theirs.fileno()), json.dumps(config)]
        if level == "bwrap":
            argv = [*bwrap_command(policy), *argv]
        if level == "none":  # nothing hidden, the environment included
            env = dict(os.environ)
        else:
            env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
            env.update(HOME=inner_tmp, TMPDIR=inner_tmp, PATH="/usr/bin:/bin", USER="gbench")
        self._log = Path(self._tmp.name) / "stderr.log"  # what plugins print: never a full pipe
        with self._log.open("wb") as log:
            self.proc = subprocess.Popen(
                argv,
                pass_fds=[theirs.fileno()],
                env=env,
                cwd=self._tmp.name,
                stdin=subprocess.DEVNULL,
                stderr=log,
            )
        theirs.close()
        self.exits: dict[str, int] = {}
        self.in_flight = 0  # jobs its user is still waiting on: never closed under them
        self._next = 0
        reply = self._receive()
        if reply is None or reply[0] != "ready":
            last = (self.stderr().strip().splitlines() or ["no output"])[-1]
            raise GbenchError(f"the {level} sandbox did not start: {last}")

    def stderr(self) -> str:
        return self._log.read_text(errors="replace") if self._log.is_file() else ""

    def _receive(self) -> tuple[Any, ...] | None:
        data = self.ctl.recv(1 << 16)
        return tuple(json.loads(data)) if data else None

    def run(self, payload: dict[str, Any]) -> tuple[str, Connection, Connection]:
        """Fork a child for ``payload``; returns its id and its oracle and result ends."""
        self._next += 1
        job_id = str(self._next)
        oracle_here, oracle_there = socket.socketpair()
        result_here, result_there = socket.socketpair()
        message = json.dumps(["run", job_id, payload]).encode()
        Zygote.largest_message = max(Zygote.largest_message, len(message))
        socket.send_fds(self.ctl, [message], [oracle_there.fileno(), result_there.fileno()])
        oracle_there.close()
        result_there.close()
        return job_id, Connection(oracle_here.detach()), Connection(result_here.detach())

    def poll(self) -> None:
        """Read what the zygote reported (child exits) into ``exits``."""
        while True:
            try:
                data = self.ctl.recv(1 << 16, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            if not data:
                raise ZygoteDied(f"the {self.level} sandbox's host process died")
            op, job_id, status = json.loads(data)
            if op == "exit":
                self.exits[job_id] = status

    def kill(self, job_id: str) -> None:
        try:
            self.ctl.send(json.dumps(["kill", job_id]).encode())
        except OSError as err:
            raise ZygoteDied(f"the {self.level} sandbox's host process died ({err})") from None

    def close(self) -> None:
        self.ctl.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._tmp.cleanup()
