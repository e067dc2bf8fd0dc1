"""futex(2) wait and wake on a shared 32-bit word, through libc's syscall().

The futex is shared (no FUTEX_PRIVATE_FLAG): Go processes sleep and wake
on the same words. A wait is bounded by the caller (slices of at most
SLICE seconds): the call releases the GIL, returns with EINTR when a
signal arrives, and Python then runs its handler (KeyboardInterrupt) as
soon as the call returns; the slice bounds the delay even where the
kernel restarts the wait.
"""

import ctypes
import errno
import os
import platform

_SYS_FUTEX = {"x86_64": 202, "AMD64": 202, "aarch64": 98, "arm64": 98}.get(platform.machine())
_FUTEX_WAIT = 0
_FUTEX_WAKE = 1

# Longest single sleep: how late a Ctrl-C can be seen if the kernel
# restarts the wait instead of returning EINTR.
SLICE = 0.1


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_syscall.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32,
                     ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32]


def wait(addr, expected, timeout):
    """Sleep while the word at addr holds expected, at most timeout seconds
    (None: SLICE). Returns on a wake, a changed word, a timeout or a signal:
    the caller re-checks whatever it waits for."""
    if timeout is None or timeout > SLICE:
        timeout = SLICE
    if timeout <= 0:
        return
    ts = _Timespec(int(timeout), int((timeout - int(timeout)) * 1e9))
    r = _syscall(_SYS_FUTEX, addr, _FUTEX_WAIT, expected & 0xFFFFFFFF, ctypes.addressof(ts), None, 0)
    if r < 0:
        e = ctypes.get_errno()
        if e not in (errno.EAGAIN, errno.EINTR, errno.ETIMEDOUT):
            raise OSError(e, "futex wait: " + os.strerror(e))


def wake(addr, n):
    """Wake up to n sleepers on the word at addr; returns how many woke."""
    r = _syscall(_SYS_FUTEX, addr, _FUTEX_WAKE, min(n, 0x7FFFFFFF), None, None, 0)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, "futex wake: " + os.strerror(e))
    return r


def wake_all(addr):
    return wake(addr, 0x7FFFFFFF)
