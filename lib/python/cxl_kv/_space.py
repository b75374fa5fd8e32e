# SPDX-License-Identifier: LGPL-2.1-or-later
"""cxl_kv._space - Space: one KV space, its mapping and numpy views, hints,
ranges, prefetch, residency, stats and policy parameters."""

import ctypes
import mmap

from ._ffi import (CXL_KV_PREFETCH_F_WAIT, PARAMS, Hint, Params, Prefetch,
                   Residency, Stats, _U, _U64, _check, lib)
from ._records import (ResidencyMap, SpaceLayout, SpaceStats, kv_numpy_view,
                       make_hints, make_ranges, np, score_hints)


class Space:
    """A KV space (struct cxl_kv_space).

    map() and numpy() return views of one shared mapping (Python's mmap of
    the space fd).  close() closes the space; views made before it keep the
    mapping (and so the space) until the last of them is gone, and methods
    other than close() raise ValueError after it."""

    def __init__(self, ctx, p):
        self._ctx = ctx          # keeps the context object alive
        self._sp = p
        self.layout = SpaceLayout._from(lib.cxl_kv_space_get_layout(p).contents)
        self._mm = None
        self._buf = None

    def _p(self):
        if not self._sp:
            raise ValueError("the space is closed")
        return self._sp

    @property
    def closed(self):
        return not self._sp

    @property
    def fd(self):
        return lib.cxl_kv_space_get_fd(self._p())

    def close(self):
        """Close the space.  Views from map()/numpy() that are still alive
        keep their mapping (the mmap object holds its own fd of the space)
        until they are gone; nothing they point at is unmapped under them."""
        if not self._sp:
            return
        if self._buf is not None:
            try:
                self._buf.release()
            except BufferError:
                pass    # a view was made from it: it keeps the mapping
            self._buf = None
        if self._mm is not None:
            try:
                self._mm.close()
            except BufferError:
                pass    # views left: unmapped when the last one goes
            self._mm = None
        lib.cxl_kv_space_close(self._sp)
        self._sp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:   # interpreter shutdown: the library may be gone
            pass

    def use_uring(self, entries=8):
        _check(lib.cxl_kv_space_use_uring(self._p(), entries))

    def map(self):
        """The whole space as a writable memoryview (MAP_SHARED of the
        space fd).  It and every view made from it stay valid after
        close()."""
        if self._buf is None:
            self._mm = mmap.mmap(self.fd, self.layout.mmap_bytes,
                                 flags=mmap.MAP_SHARED,
                                 prot=mmap.PROT_READ | mmap.PROT_WRITE)
            self._buf = memoryview(self._mm)
        return self._buf

    def numpy(self):
        """numpy view (layers, kv_heads, 2, max_tokens, head_dim) of map()."""
        return kv_numpy_view(self.map(), self.layout)

    def offset(self, layer, head, kind, token):
        off = _U64()
        lo = lib.cxl_kv_space_get_layout(self._p())
        _check(lib.cxl_kv_layout_offset(lo, layer, head, kind, token, ctypes.byref(off)))
        return off.value

    def kv(self, layer, head, kind, token):
        """memoryview of one token's K (kind 0) or V (kind 1) vector."""
        off = self.offset(layer, head, kind, token)
        return self.map()[off:off + self.layout.token_bytes]

    def hints(self, step, hints):
        """HINTS: (layer, head, block, score_q16) tuples, an (N, 4) integer
        array or a HINT_DTYPE array; returns how many were applied."""
        arr = make_hints(hints)
        done = _U()
        ptr = (arr.ctypes.data_as(ctypes.POINTER(Hint))
               if np is not None and isinstance(arr, np.ndarray) else arr)
        _check(lib.cxl_kv_hints(self._p(), step, ptr, len(arr), ctypes.byref(done)))
        return done.value

    def score(self, step, layer, head, blocks, scores):
        """HINTS from attention mass: @blocks and float @scores in [0, 1]
        (numpy arrays or sequences; @layer and @head broadcast)."""
        return self.hints(step, score_hints(layer, head, blocks, scores))

    def _ranges(self, fn, ranges, step=None):
        arr = make_ranges(ranges)
        done = _U64()
        if step is None:
            _check(fn(self._p(), arr, len(ranges), ctypes.byref(done)))
        else:
            _check(fn(self._p(), step, arr, len(ranges), ctypes.byref(done)))
        return done.value

    def access(self, step, ranges):
        return self._ranges(lib.cxl_kv_access, ranges, step)

    def promote(self, ranges):
        return self._ranges(lib.cxl_kv_promote, ranges)

    def demote(self, ranges):
        return self._ranges(lib.cxl_kv_demote, ranges)

    def pin(self, ranges):
        return self._ranges(lib.cxl_kv_pin, ranges)

    def unpin(self, ranges):
        return self._ranges(lib.cxl_kv_unpin, ranges)

    def prefetch(self, layer, head_mask, pos, window, wait=False):
        issued, resident = _U64(), _U64()
        _check(lib.cxl_kv_prefetch(self._p(), layer, head_mask, pos, window,
                                   CXL_KV_PREFETCH_F_WAIT if wait else 0,
                                   ctypes.byref(issued), ctypes.byref(resident)))
        return issued.value, resident.value

    def prefetch_batch(self, windows, wait=False):
        """Several (layer, head_mask, pos, window) prefetches in one call;
        returns [(issued, resident), ...]."""
        arr = (Prefetch * len(windows))()
        for i, (layer, mask, pos, window) in enumerate(windows):
            arr[i].layer, arr[i].head_mask, arr[i].pos, arr[i].window = layer, mask, pos, window
            arr[i].flags = CXL_KV_PREFETCH_F_WAIT if wait else 0
        _check(lib.cxl_kv_prefetch_batch(self._p(), arr, len(windows)))
        return [(p.issued, p.resident) for p in arr]

    def residency(self, layer, head, first_block=0, nr_blocks=None):
        """RESIDENCY of (layer, head) blocks [first_block, +nr_blocks) (all
        of them by default) as a ResidencyMap; .resident is a numpy bool
        array (a list without numpy)."""
        if nr_blocks is None:
            nr_blocks = self.layout.blocks_per_stream - first_block
        words = (_U64 * max(1, (nr_blocks + 63) // 64))()
        r = Residency()
        _check(lib.cxl_kv_residency(self._p(), layer, head, first_block, nr_blocks,
                                    words, ctypes.byref(r)))
        if np is not None:
            bits = np.frombuffer(bytes(words), dtype=np.uint8)
            res = np.unpackbits(bits, bitorder="little")[:nr_blocks].astype(bool)
        else:
            res = [bool(words[i // 64] >> (i % 64) & 1) for i in range(nr_blocks)]
        return ResidencyMap(layer, head, first_block, r.nr_warm, r.nr_cold,
                            r.nr_empty, r.nr_pinned, res)

    def stats(self):
        s = Stats()
        _check(lib.cxl_kv_space_stats(self._p(), ctypes.byref(s)))
        return SpaceStats._from(s)

    def params(self):
        p = Params()
        _check(lib.cxl_kv_params_get(self._p(), ctypes.byref(p)))
        return {n: getattr(p, n) for n in PARAMS}

    def set_params(self, **kw):
        p = Params()
        for name, value in kw.items():
            bit = _U64()
            _check(lib.cxl_kv_param_lookup(name.encode(), ctypes.byref(bit)))
            setattr(p, name, value)
            p.mask |= bit.value
        _check(lib.cxl_kv_params_set(self._p(), ctypes.byref(p)))
        return self.params()
