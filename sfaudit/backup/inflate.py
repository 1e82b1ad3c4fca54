"""Raw-deflate inflaters with CRC-32, the fastest one installed.

Measured on this project's 2-core machine (177 MB of export CSV, 1 MiB input
chunks, 4 MiB output cap): zlib 404 MB/s, isal ``isal_zlib`` 1310 MB/s, zlib-ng
1390 MB/s, isal ``IgzipDecompressor`` in gzip-no-header mode (inflate and CRC in
one pass) 1713 MB/s. So the order of preference is igzip, zlib-ng, zlib; isal
and zlib-ng are dependencies wherever they publish wheels, and zlib is always
there. ``SFAUDIT_INFLATE=isal|zlib-ng|zlib`` forces one (tests compare them).
Without isal a scan says so (:func:`note`), since it is then markedly slower.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from typing import Any, Protocol

BACKENDS = ("isal", "zlib-ng", "zlib")


class Inflater(Protocol):
    """Inflates one member: ``decompress`` returns at most ``max_length`` bytes."""

    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int) -> bytes: ...

    def crc(self, data: bytes, value: int) -> int: ...

    def final_crc(self, running: int) -> int: ...


class _Igzip:
    """isal's IgzipDecompressor: raw deflate with the CRC-32 computed as it inflates."""

    def __init__(self, module: Any) -> None:
        self._d = module.IgzipDecompressor(flag=module.DECOMP_GZIP_NO_HDR, hist_bits=15)

    @property
    def eof(self) -> bool:
        return bool(self._d.eof)

    @property
    def needs_input(self) -> bool:
        return bool(self._d.needs_input) or bool(self._d.eof)

    def decompress(self, data: bytes, max_length: int) -> bytes:
        out: bytes = self._d.decompress(data, max_length)
        return out

    def crc(self, data: bytes, value: int) -> int:
        return value

    def final_crc(self, running: int) -> int:
        return int(self._d.crc)


class _ZlibLike:
    """A zlib-style ``decompressobj(-15)`` plus a separate CRC-32 function."""

    def __init__(self, module: Any, crc32: Callable[[bytes, int], int]) -> None:
        self._d = module.decompressobj(-15)
        self._tail = b""
        self._full = False
        self._crc32 = crc32

    @property
    def eof(self) -> bool:
        return bool(self._d.eof)

    @property
    def needs_input(self) -> bool:
        # A full output buffer may leave output pending inside zlib even when
        # every input byte was taken (an empty unconsumed_tail): ask again.
        return bool(self._d.eof) or not (self._tail or self._full)

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if not data:
            data = self._tail
        out: bytes = self._d.decompress(data, max_length)
        self._tail = self._d.unconsumed_tail
        self._full = len(out) >= max_length
        if self._d.eof:
            out += self._d.flush()
        return out

    def crc(self, data: bytes, value: int) -> int:
        return self._crc32(data, value)

    def final_crc(self, running: int) -> int:
        return running


def _fast_crc32() -> Callable[[bytes, int], int]:
    for name in ("isal.isal_zlib", "zlib_ng.zlib_ng"):
        try:
            module = __import__(name, fromlist=["crc32"])
        except ImportError:
            continue
        crc: Callable[[bytes, int], int] = module.crc32
        return crc
    return zlib.crc32


#: Before 1.9.0, isal's IgzipDecompressor can end an intact member early when its
#: output cap fills (tests/test_backup_scanner.py); older releases are not used.
ISAL_MIN = (1, 9)


def isal_version() -> tuple[int, ...] | None:
    """The installed isal's version, or None when it cannot be imported."""
    try:
        import isal
        from isal import igzip_lib  # noqa: F401
    except ImportError:
        return None
    parts = str(getattr(isal, "__version__", "0")).split(".")
    return tuple(int(p) if p.isdigit() else 0 for p in parts[:3])


def available() -> list[str]:
    """The installed backends, fastest first (isal only from :data:`ISAL_MIN` on)."""
    found = []
    version = isal_version()
    if version is not None and version >= ISAL_MIN:
        found.append("isal")
    try:
        __import__("zlib_ng.zlib_ng")
    except ImportError:
        pass
    else:
        found.append("zlib-ng")
    return [*found, "zlib"]


def choose(preferred: str | None = None) -> str:
    """The backend to use: ``preferred`` or ``$SFAUDIT_INFLATE`` if installed, else the fastest."""
    wanted = preferred or os.environ.get("SFAUDIT_INFLATE") or ""
    names = available()
    if wanted in names:
        return wanted
    return names[0]


#: Whole ``verify-backup`` runs (README, backup benchmark, 600 MB export, 2 workers):
#: 8.2 s with zlib, 5.3 s with zlib-ng, 4.7 s with isal.
_SLOWER_THAN_ISAL = {"zlib": "about 1.7x", "zlib-ng": "about 1.1x"}


def note(backend: str) -> str | None:
    """Why a scan did not use isal and how to fix it; None when it did."""
    if backend == "isal":
        return None
    faster = _SLOWER_THAN_ISAL.get(backend, "")
    if "isal" in available():
        asked = os.environ.get("SFAUDIT_INFLATE")
        why = f"because SFAUDIT_INFLATE={asked}" if asked == backend else "as asked"
        return (
            f"inflating with {backend} {why}: isal is installed and verifies {faster} "
            "as fast; unset SFAUDIT_INFLATE to use it"
        )
    version = isal_version()
    if version is not None:
        shown = ".".join(map(str, version))
        return (
            f"inflating with {backend}: isal {shown} is too old to be used; upgrade it "
            f"(`pip install 'isal>=1.9'`) for {faster} faster verification"
        )
    return (
        f"inflating with {backend}: isal is not installed; install it (`pip install isal`) "
        f"for {faster} faster verification"
    )


def make(backend: str) -> Inflater:
    """A fresh inflater for one member."""
    if backend == "isal":
        from isal import igzip_lib

        return _Igzip(igzip_lib)
    if backend == "zlib-ng":
        from zlib_ng import zlib_ng

        return _ZlibLike(zlib_ng, zlib_ng.crc32)
    return _ZlibLike(zlib, _fast_crc32())


def crc32_function() -> Callable[[bytes, int], int]:
    """The fastest CRC-32 installed, for stored (uncompressed) members."""
    return _fast_crc32()
