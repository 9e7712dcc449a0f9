"""A hostile plugin: each ``attack`` tries one way out of the sandbox.

The tests copy this file next to nothing else and fill in ``TARGETS`` (paths and a port of
the test's own). An attack that gets through raises ``Escaped: <what it got>``; one that is
refused raises ``Blocked: <the error>``, so the recorded error says which happened.
"""

from __future__ import annotations

import gc
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

from gbench.models import Budget, Categorical, GraphInfo, Metadata, Model, OverBudgetError

TARGETS: dict[str, Any] = {}  # filled in by the test: raw file, store, other view, pid, port

ATTACKS = (
    "import_write",
    "data_load",
    "raw_file",
    "tracking_store",
    "other_view",
    "parent_environ",
    "parent_mem",
    "parent_fds",
    "connect",
    "bind",
    "fork",
    "memory",
)


META: dict[str, Any] = dict(
    version="1",
    authors=("tests",),
    paper="https://example.org",
    code="https://example.org",
    licence="MIT",
)


class Escaped(Exception):
    pass


class Blocked(Exception):
    pass


try:  # import-time code, run wherever the plugin is imported
    Path(TARGETS["outside"]).write_text("written at import")
    IMPORT_WRITE = "wrote " + TARGETS["outside"]
except (OSError, KeyError) as err:
    IMPORT_WRITE = f"{type(err).__name__}: {err}"


def attack(name: str) -> str:
    """Returns what was obtained; raises OSError (or similar) where refused."""
    t = TARGETS
    if name == "import_write":
        if IMPORT_WRITE.startswith("wrote"):
            return IMPORT_WRITE
        raise OSError(IMPORT_WRITE)
    if name == "data_load":
        from gbench import data

        g = data.load(t["dataset"], root=Path(t["data_root"]))
        return f"{int((g.y >= 0).sum())} labels"
    if name == "raw_file":
        return f"{len(Path(t['raw_file']).read_bytes())} bytes of raw data"
    if name == "tracking_store":
        return f"{len(Path(t['store']).read_bytes())} bytes of the tracking store"
    if name == "other_view":
        return f"{len(Path(t['other_view']).read_bytes())} bytes of another split's view"
    if name == "parent_environ":
        return Path(f"/proc/{t['parent']}/environ").read_bytes()[:40].decode(errors="replace")
    if name == "parent_mem":
        maps = Path(f"/proc/{t['parent']}/maps").read_text()
        with open(f"/proc/{t['parent']}/mem", "rb") as f:
            f.seek(int(maps.split("-", 1)[0], 16))
            return f"read {len(f.read(16))} bytes of the parent's memory"
    if name == "parent_fds":
        fds = os.listdir(f"/proc/{t['parent']}/fd")
        return f"{len(fds)} open files of the parent"
    if name == "connect":
        with socket.create_connection(("127.0.0.1", t["port"]), timeout=5) as s:
            return f"connected to {s.getpeername()}"
    if name == "bind":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            return f"listening on {s.getsockname()}"
    if name == "fork":
        pids = []
        for _ in range(t["forks"]):
            pid = os.fork()
            if pid == 0:
                time.sleep(0.2)
                os._exit(0)
            pids.append(pid)
        for pid in pids:
            os.waitpid(pid, 0)
        return f"forked {len(pids)} processes"
    if name == "memory":
        x = torch.empty(t["allocate"], dtype=torch.uint8)
        return f"allocated {x.numel() >> 20} MiB"
    raise AssertionError(name)


class Hostile(Model):
    meta = Metadata(name="hostile", **META)
    space = {"attack": Categorical(ATTACKS, default="data_load")}

    def fit(self, graph: Any, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        try:
            got = attack(params["attack"])
        except Exception as err:
            raise Blocked(f"{type(err).__name__}: {err}") from None
        raise Escaped(got)


class Thief(Model):
    """Takes the test labels where it can, else guesses the first class."""

    meta = Metadata(name="thief", **META)
    space = {"lr": Categorical((0.01,), default=0.01)}

    def fit(self, graph: Any, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        guess = torch.zeros(graph.num_nodes, graph.num_classes)
        guess[:, 0] = 1.0
        try:
            from gbench import data

            stolen = data.load(TARGETS["dataset"], root=Path(TARGETS["data_root"])).y
        except Exception:
            return guess
        return torch.nn.functional.one_hot(stolen.clamp(min=0), graph.num_classes).float()


class Forger(Model):
    """Patches gbench's own timing and parameter counting inside its child to look cheap."""

    meta = Metadata(name="forger", **META)
    space = {
        "forge": Categorical(("time", "parameters"), default="time"),
        "lr": Categorical((0.01,), default=0.01),
    }

    def build(self, info: GraphInfo, params: dict[str, Any]) -> torch.nn.Module:
        from gbench.models import train

        @contextmanager
        def no_time(device: Any) -> Iterator[Any]:
            yield SimpleNamespace(seconds=0.0)

        train.timed = no_time  # type: ignore[assignment]  # the attack
        train.count = lambda shapes: 1  # type: ignore[assignment]
        wide = params["forge"] == "parameters"
        return Slow(info.num_features, 4096 if wide else 4, info.num_classes, not wide)


class Slow(torch.nn.Module):
    def __init__(self, features: int, width: int, classes: int, sleep: bool) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(features, width), torch.nn.Linear(width, classes)
        )
        self.sleep = sleep

    def forward(self, graph: Any) -> torch.Tensor:
        if self.sleep:
            time.sleep(1.0)
            self.sleep = False
        return self.net(graph.x)


class Evil:
    """Unpickled, it writes ``TARGETS["pwned"]``: in whichever process loads it."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"open({TARGETS['pwned']!r}, 'w').write('pwned')",))


def connections() -> list[Connection]:
    """The child's ends of the oracle and result channels, found as any code could."""
    return [o for o in gc.get_objects() if isinstance(o, Connection) and not o.closed]


class Liar(Model):
    """Lies to the runner over its own channels, or floods the validation oracle."""

    meta = Metadata(name="liar", **META)
    space = {"lie": Categorical(("pickle", "started", "oracle"), default="pickle")}

    def fit(self, graph: Any, params: dict[str, Any], budget: Budget) -> torch.Tensor:
        guess = torch.zeros(graph.num_nodes, graph.num_classes)
        if params["lie"] == "pickle":
            for conn in connections():
                conn.send(Evil())
        elif params["lie"] == "started":  # "the clock starts now", over and over
            from gbench.sandbox import wire

            for _ in range(100):
                for conn in connections():
                    conn.send_bytes(wire.pack({"status": "started"}))
                time.sleep(0.1)
        else:
            assert budget.validate is not None
            for _ in range(3 * budget.max_epochs):
                with suppress(OverBudgetError):  # and carry on as if nothing happened
                    budget.validate(guess)
        return guess
