"""Confining the current process with the kernel's own mechanisms, through ctypes.

Used where bubblewrap is absent (Landlock for the file system, a new network namespace) and
in every sandboxed job (seccomp and resource limits). Each function either applies its
restriction or raises :class:`Unavailable` saying what the kernel lacks; callers decide
whether that lowers the sandbox level or is fatal. Nothing here can be undone by the
process it was applied to.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import socket
from collections.abc import Iterable
from pathlib import Path

_libc = ctypes.CDLL(None, use_errno=True)

# x86_64 and aarch64 share the Landlock syscall numbers (added after the tables merged).
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

# Landlock file-system rights, by the ABI version that introduced them.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_ABI1 = (1 << 13) - 1  # execute .. make_sym
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV

PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 4, 38, 24
CLONE_NEWUSER, CLONE_NEWNET, CLONE_THREAD = 0x10000000, 0x40000000, 0x00010000


class Unavailable(Exception):
    """This kernel (or machine) cannot apply a restriction; the message says which."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise Unavailable(f"{what}: {os.strerror(err)}")
    return result


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 where Landlock is absent or disabled."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "aarch64"):
        return 0
    version = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return max(int(version), 0)


def landlock(read_only: Iterable[Path], writable: Iterable[Path]) -> int:
    """Allow only reading ``read_only`` and reading/writing ``writable``, from now on.

    Every other path, /proc included, is out of reach; with ABI 4+ TCP bind/connect and with
    ABI 6+ signals and abstract sockets outside the sandbox are refused too. Returns the ABI.
    """
    abi = landlock_abi()
    if abi < 1:
        raise Unavailable("Landlock is not enabled in this kernel")
    fs = FS_ABI1 | (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    fs |= FS_IOCTL_DEV if abi >= 5 else 0
    attr = _RulesetAttr(
        handled_access_fs=fs,
        handled_access_net=(NET_BIND_TCP | NET_CONNECT_TCP) if abi >= 4 else 0,
        scoped=(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if abi >= 6 else 0,
    )
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = _check(
        _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), size, 0),
        "landlock_create_ruleset",
    )
    try:
        for rights, paths in ((READ, read_only), (fs, writable)):
            for path in paths:
                _allow(ruleset, Path(path), rights)
        no_new_privileges()
        _check(_libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def _allow(ruleset: int, path: Path, rights: int) -> None:
    if not path.exists():
        return
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        allowed = rights if path.is_dir() else rights & FILE_RIGHTS
        rule = _PathBeneath(allowed_access=allowed, parent_fd=fd)
        _check(
            _libc.syscall(
                SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0
            ),
            f"landlock_add_rule({path})",
        )
    finally:
        os.close(fd)


def new_network_namespace() -> None:
    """Move into a fresh user and network namespace: no interface is up, so no connect or
    bind reaches anything. Must run while the process has a single thread."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNET), "unshare(user, net)")
    # Map ourselves to the same ids, so files keep their owners (and /root stays reachable
    # for a root-owned Python installation); capabilities apply inside the new namespace
    # only and are dropped next.
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


def no_new_privileges() -> None:
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def not_dumpable() -> None:
    """Other processes of the same user can no longer ptrace us or read /proc/<pid>/mem."""
    _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(SET_DUMPABLE)")


def drop_capabilities() -> None:
    """Empty the bounding, effective, permitted and inheritable capability sets."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EPERM once CAP_SETPCAP is gone: harmless

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3: two Data structs
    data = (Data * 2)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def limits(memory_bytes: int | None, open_files: int) -> None:
    """Address-space and open-file limits (the job's own, not shared with anyone)."""
    if memory_bytes is not None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))


def no_processes_no_network() -> None:
    """seccomp: threads yes; new processes (fork, vfork, clone without CLONE_THREAD) and any
    socket other than a Unix socket no. Works for every user, root included, where process
    limits do not (RLIMIT_NPROC never applies to root)."""
    try:
        import pyseccomp as sc
    except OSError as err:  # libseccomp.so missing
        raise Unavailable(f"seccomp: libseccomp is missing ({err})") from None
    f = sc.SyscallFilter(defaction=sc.ALLOW)
    for call in ("fork", "vfork"):
        f.add_rule(sc.ERRNO(errno.EPERM), call)
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # libc then falls back to clone, checked below
    f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    f.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
    f.load()
