"""Atomic read-modify-write on shared memory, for pure Python.

Python has no compare-and-swap, so this module maps one executable page
holding a few x86-64 instructions and calls them through ctypes. Each
routine is a locked instruction (lock cmpxchg, lock xadd, xchg), which on
x86-64 is a full barrier: the sequential consistency Go's sync/atomic
gives, and what the sleeper protocols (a store, then a load of the other
side's word) rely on.

Plain loads need no routine: on x86-64 (TSO) an aligned 8-byte load is
single-copy atomic and is never reordered with other loads, so the
package reads shared words through a memoryview cast to 'Q' / 'I' (one
memcpy, which compiles to one mov). Plain stores are likewise atomic and
ordered after earlier stores; a store that must be ordered before a later
load (Dekker pairs) goes through xchg instead.

Other machines get UnsupportedPlatform at import: arm64 would need its own
routines and acquire/release loads, which memoryview cannot give.
"""

import ctypes
import mmap
import platform

from .errors import UnsupportedPlatform

if platform.machine() not in ("x86_64", "AMD64"):
    raise UnsupportedPlatform(
        "multiproc: atomics are implemented for x86-64 only, not %s" % platform.machine())

# System V ABI: arguments in rdi, rsi, rdx; result in rax.
_CODE = [
    # cas64(addr, old, new) -> previous value (== old when it swapped)
    ("cas64", bytes.fromhex("4889f0" "f0480fb117" "c3")),   # mov rax,rsi; lock cmpxchg [rdi],rdx; ret
    ("cas32", bytes.fromhex("89f0" "f00fb117" "c3")),       # mov eax,esi; lock cmpxchg [rdi],edx; ret
    ("add64", bytes.fromhex("4889f0" "f0480fc107" "c3")),   # mov rax,rsi; lock xadd [rdi],rax; ret  (-> old)
    ("add32", bytes.fromhex("89f0" "f00fc107" "c3")),       # mov eax,esi; lock xadd [rdi],eax; ret
    ("xchg64", bytes.fromhex("4889f0" "488707" "c3")),      # mov rax,rsi; xchg [rdi],rax; ret       (-> old)
    ("xchg32", bytes.fromhex("89f0" "8707" "c3")),          # mov eax,esi; xchg [rdi],eax; ret
]

_page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
_base = ctypes.addressof(ctypes.c_char.from_buffer(_page))

# PYFUNCTYPE: the call keeps the GIL (the routines are a few instructions;
# releasing and retaking the GIL would cost more than the call).
_U64 = ctypes.PYFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64)
_U32 = ctypes.PYFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32)
_U64_2 = ctypes.PYFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64)
_U32_2 = ctypes.PYFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32)

_fns = {}
_off = 0
for _name, _code in _CODE:
    _page[_off:_off + len(_code)] = _code
    _fns[_name] = _base + _off
    _off = (_off + len(_code) + 15) & ~15

cas64 = _U64(_fns["cas64"])
"""cas64(addr, old, new) -> the word's previous value; it swapped iff that equals old."""
cas32 = _U32(_fns["cas32"])
add64 = _U64_2(_fns["add64"])
"""add64(addr, delta) -> the previous value (delta modulo 2**64)."""
add32 = _U32_2(_fns["add32"])
xchg64 = _U64_2(_fns["xchg64"])
"""xchg64(addr, value) -> previous value: a sequentially consistent store."""
xchg32 = _U32_2(_fns["xchg32"])

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1
