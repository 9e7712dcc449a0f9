"""A warm, sandboxed process that forks one child per job.

Importing torch costs seconds, and a task has dozens of jobs, so the sandbox is entered
once per (plugin, task view): the zygote starts confined (inside bubblewrap, or under
Landlock in a new network namespace), preloads torch, and then forks a child per job. The
zygote never imports plugin code; each child tightens its own limits (memory, open files,
no new processes, no network sockets) before it does.

Protocol, over a Unix SEQPACKET socket whose end is the zygote's file descriptor ``argv[1]``:
the parent sends ``("run", job_id, payload)`` with the job's oracle and result sockets as
passed file descriptors, or ``("kill", job_id)``; the zygote answers
``("exit", job_id, status)`` when it has reaped a child (status as ``os.waitstatus_to_exitcode``
gives it). Messages are JSON both ways: nothing the zygote sends can run code in the parent.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

MAX_MESSAGE = 1 << 20
DEVICES = ("/dev/urandom", "/dev/random", "/dev/zero")  # bubblewrap's --dev gives these too
NULL = Path("/dev/null")


def confine(config: dict[str, Any]) -> None:
    """Enter the sandbox this zygote was started for (bubblewrap did the rest already)."""
    from gbench.sandbox import kernel

    level = config["level"]
    if level == "landlock+netns":
        kernel.new_network_namespace()  # first: it needs a single-threaded process
        kernel.drop_capabilities()  # before Landlock hides /proc, where it reads the cap count
        read_only = [Path(p) for p in (*config["read_only"], *DEVICES)]
        kernel.landlock(read_only, [Path(config["tmp"]), NULL])
    if level != "none":  # no_new_privs: set by bubblewrap, and by kernel.landlock above
        kernel.not_dumpable()


def job_child(config: dict[str, Any], payload: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: the job's own limits, then the job (or the plugin's description)."""
    from gbench.sandbox import kernel

    if config["level"] != "none":
        view = payload.get("view")
        if view and kernel.landlock_abi() > 0:  # of all the views, this job reads its own
            keep = [Path(p) for p in (*config["read_only"], *DEVICES)]
            keep = [p for p in keep if not Path(view).is_relative_to(p)]
            kernel.landlock([*keep, Path(view)], [Path(config["tmp"]), NULL])
        device = payload.get("job", {}).get("device", "cpu")
        on_cpu = device == "cpu"  # CUDA reserves address space beyond use
        kernel.limits(config["memory_bytes"] if on_cpu else None, config["open_files"])
        kernel.no_processes_no_network()
    from gbench.runner import child

    oracle, result = (Connection(fd) for fd in fds)
    child.main(payload, oracle, result)


def serve(ctl: socket.socket, config: dict[str, Any]) -> None:
    children: dict[int, str] = {}  # pid -> job id
    while True:
        ready, _, _ = select.select([ctl], [], [], 0.05)
        if ready:
            data, fds, _, _ = socket.recv_fds(ctl, MAX_MESSAGE, 2)
            if not data:
                return  # the parent is gone
            op, job_id, *rest = json.loads(data)
            if op == "run":
                pid = os.fork()
                if pid == 0:
                    ctl.close()
                    code = 0
                    try:
                        job_child(config, rest[0], fds)
                    except BaseException:  # reported to the parent through the exit status
                        code = 70
                    finally:
                        os._exit(code)
                children[pid] = job_id
                for fd in fds:
                    os.close(fd)
            elif op == "kill":
                for pid, jid in children.items():
                    if jid == job_id:
                        os.kill(pid, signal.SIGKILL)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            job_id = children.pop(pid, None)
            if job_id is not None:
                ctl.send(json.dumps(["exit", job_id, os.waitstatus_to_exitcode(status)]).encode())


def main() -> None:
    # Ctrl-C reaches the whole process group: the runner alone answers it (it kills its jobs
    # and says what was kept); a job would only print a traceback of where it was stopped
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctl = socket.socket(fileno=int(sys.argv[1]))
    config = json.loads(sys.argv[2])
    sys.path[:] = config["sys_path"]
    confine(config)
    for module in config["preload"]:
        __import__(module)
    ctl.send(json.dumps(["ready", "", os.getpid()]).encode())
    serve(ctl, config)


if __name__ == "__main__":
    main()
