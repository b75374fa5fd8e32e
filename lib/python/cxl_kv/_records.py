# SPDX-License-Identifier: LGPL-2.1-or-later
"""cxl_kv._records - what the binding hands out and takes in: the layout and
stats dataclasses, the residency map, hints and ranges (numpy optional)."""

import ctypes
import dataclasses

from ._ffi import Geometry, Hint, Layout, Range, STATS_COUNTERS, _check, lib

try:
    import numpy as np
except ImportError:     # numpy is optional: lists in, lists out
    np = None

# struct cxl_kv_hint as a numpy dtype (Space.hints() takes arrays of it).
HINT_DTYPE = (np.dtype([("layer", "<u2"), ("head", "<u2"), ("block", "<u4"),
                        ("score", "<u4"), ("reserved", "<u4")])
              if np is not None else None)
SCORE_ONE = 0x10000     # score 1.0 in the module's Q16 units


class _Record:
    """Dataclass mixin: rec["name"] as well as rec.name."""

    def __getitem__(self, key):
        return getattr(self, key)

    def keys(self):
        return [f.name for f in dataclasses.fields(self)]

    def asdict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class SpaceLayout(_Record):
    """The mmap layout of a space (struct cxl_kv_layout)."""
    layers: int
    kv_heads: int
    head_dim: int
    dtype_bytes: int
    max_tokens: int
    page_size: int
    token_bytes: int
    tokens_per_block: int
    blocks_per_stream: int
    stream_bytes: int
    mmap_bytes: int

    @classmethod
    def _from(cls, lo):
        return cls(lo.geo.layers, lo.geo.kv_heads, lo.geo.head_dim,
                   lo.geo.dtype_bytes, lo.geo.max_tokens, lo.page_size,
                   lo.token_bytes, lo.tokens_per_block, lo.blocks_per_stream,
                   lo.stream_bytes, lo.mmap_bytes)


@dataclasses.dataclass(frozen=True)
class SpaceStats(_Record):
    """Counters of a space or of the module (struct cxl_kv_stats)."""
    warm_pages: int
    cold_pages: int
    faults_zero: int
    faults_warm: int
    faults_cold: int
    promotions: int
    demotions: int
    clean_drops: int
    wb_aborts: int
    prefetch_issued: int
    prefetch_used: int
    nvme_read_bytes: int
    nvme_write_bytes: int
    io_errors: int
    alloc_waits: int
    alloc_fails: int
    hints: int
    lat_hist: tuple
    gup_kept: int

    @classmethod
    def _from(cls, st):
        return cls(*[getattr(st, n) for n in STATS_COUNTERS],
                   tuple(st.lat_hist), st.gup_kept)

    @property
    def prefetch_accuracy(self):
        """prefetch_used / prefetch_issued, or None when nothing was issued."""
        return (self.prefetch_used / self.prefetch_issued
                if self.prefetch_issued else None)


@dataclasses.dataclass(frozen=True)
class ResidencyMap(_Record):
    """RESIDENCY of blocks [first_block, first_block + len(resident)) of one
    (layer, head): resident[i] is True iff no page of the block is cold
    (touching it needs no I/O; never-written blocks count), a numpy bool
    array (a list without numpy)."""
    layer: int
    head: int
    first_block: int
    nr_warm: int
    nr_cold: int
    nr_empty: int
    nr_pinned: int
    resident: object


def layout(layers, kv_heads, head_dim, dtype_bytes, max_tokens, page_size=4096):
    """The mmap layout (SpaceLayout) of a space of this geometry, as the
    module computes it."""
    geo = Geometry(layers, kv_heads, head_dim, dtype_bytes, max_tokens)
    lo = Layout()
    _check(lib.cxl_kv_layout_init(ctypes.byref(lo), ctypes.byref(geo), page_size))
    return SpaceLayout._from(lo)


def make_hints(hints):
    """struct cxl_kv_hint[] from (layer, head, block, score_q16) tuples (a
    ctypes array), or from a numpy array: HINT_DTYPE records or an (N, 4)
    integer array (a contiguous HINT_DTYPE array)."""
    if np is not None and isinstance(hints, np.ndarray):
        if hints.dtype == HINT_DTYPE:
            return np.ascontiguousarray(hints)
        a = np.asarray(hints)
        if a.ndim != 2 or a.shape[1] != 4 or a.dtype.kind not in "iu":
            raise ValueError("hints: an (N, 4) integer array of "
                             "(layer, head, block, score_q16) or HINT_DTYPE")
        if a.size and (a.min() < 0 or (a[:, :2] > 0xffff).any() or
                       (a[:, 2:] > 0xffffffff).any()):
            raise ValueError("hints: a field out of range")
        out = np.zeros(len(a), dtype=HINT_DTYPE)
        out["layer"], out["head"], out["block"], out["score"] = a.T
        return out
    arr = (Hint * len(hints))()
    for i, (layer, head, block, score) in enumerate(hints):
        arr[i].layer, arr[i].head, arr[i].block, arr[i].score = layer, head, block, score
    return arr


def score_hints(layer, head, blocks, scores):
    """HINT_DTYPE array from attention mass per block: @scores are floats in
    [0, 1] (converted to Q16, clipped); @layer and @head broadcast against
    @blocks.  Needs numpy."""
    if np is None:
        raise RuntimeError("score_hints needs numpy")
    blocks = np.asarray(blocks)
    layer, head, blocks, scores = np.broadcast_arrays(layer, head, blocks,
                                                      np.asarray(scores, float))
    out = np.zeros(blocks.size, dtype=HINT_DTYPE)
    out["layer"], out["head"] = layer.ravel(), head.ravel()
    out["block"] = blocks.ravel()
    out["score"] = np.clip(np.rint(scores.ravel() * SCORE_ONE), 0, SCORE_ONE)
    return out


def make_ranges(ranges):
    """A ctypes array of struct cxl_kv_range from (layer, head, first, count)."""
    arr = (Range * len(ranges))()
    for i, (layer, head, first, n) in enumerate(ranges):
        arr[i].layer, arr[i].head, arr[i].first_block, arr[i].nr_blocks = layer, head, first, n
    return arr


def kv_numpy_view(buffer, lo):
    """numpy view (layers, kv_heads, 2, max_tokens, head_dim) of a space's
    mapping with layout @lo; the page padding of each stream is cut off."""
    import numpy as np  # optional dependency
    dt = {1: np.uint8, 2: np.float16, 4: np.float32}[lo["dtype_bytes"]]
    per_stream = lo["stream_bytes"] // lo["token_bytes"]
    a = np.frombuffer(buffer, dtype=dt, count=lo["mmap_bytes"] // lo["dtype_bytes"])
    a = a.reshape(lo["layers"], lo["kv_heads"], 2, per_stream, lo["head_dim"])
    return a[:, :, :, :lo["max_tokens"], :]
