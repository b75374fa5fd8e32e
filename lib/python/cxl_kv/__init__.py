# SPDX-License-Identifier: LGPL-2.1-or-later
"""cxl_kv - Python binding of libcxl_kv (ctypes; numpy optional).

    import cxl_kv
    with cxl_kv.Context() as ctx:
        print(ctx.warm_node())
        sp = ctx.create_space(layers=4, kv_heads=2, head_dim=128,
                              dtype_bytes=2, max_tokens=512)
        kv = sp.numpy()                 # (layers, kv_heads, 2, tokens, dim)
        kv[0, 0, cxl_kv.K, 0] = 1.0
        sp.score(1, layer=0, head=0, blocks=[0, 1], scores=[0.75, 0.25])
        sp.prefetch(1, head_mask=0b11, pos=511, window=64, wait=True)
        print(sp.stats().warm_pages, sp.residency(0, 0).resident)
        sp.close()

Every library error raises OSError with the errno the C call returned.

The mapping belongs to the views: Space.map() and Space.numpy() (and the
views derived from them) keep the space's pages mapped, and the space
itself alive, after Space.close() until the last view is gone, so a view
never points at unmapped memory.  close() releases the space at once when
no view is left.

Hints go in as numpy arrays (Space.score(): blocks and float scores, or
Space.hints() with an (N, 4) array or a structured HINT_DTYPE array, or a
list of (layer, head, block, score_q16) tuples); residency comes out as a
numpy bool array (Residency.resident).  stats() and the layout are
dataclasses (SpaceStats, SpaceLayout; ["name"] works too).  Space.list_owned
and Context.spaces() read the caller's own spaces through LIST.

The library is found through $CXL_KV_LIB, then ctypes.util.find_library
("cxl_kv"), then libcxl_kv.so.1.  python3 -m cxl_kv.example runs a small
decode loop against the module.
"""

import ctypes
import ctypes.util
import dataclasses
import mmap
import os

__all__ = ["Context", "Space", "SpaceLayout", "SpaceStats", "ResidencyMap",
           "layout", "K", "V", "PARAMS", "HINT_DTYPE", "lib"]

K, V = 0, 1

CXL_KV_PREFETCH_F_WAIT = 1
CXL_KV_MAX_NODES = 8
CXL_KV_MAX_COLD = 4
CXL_KV_STATS_HIST = 16

u8, u16, u32, u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64


# ------------------------------------------------------------- UAPI structs

class Features(ctypes.Structure):
    _fields_ = [("version", u32), ("page_size", u32), ("features", u64),
                ("reserved", u64 * 6)]


class ColdDev(ctypes.Structure):
    _fields_ = [("path", u64), ("fd", u32), ("flags", u32),
                ("max_bytes", u64), ("reserved", u64)]


class Attach(ctypes.Structure):
    _fields_ = [("nr_nodes", u32), ("nr_cold", u32),
                ("nodes", u32 * CXL_KV_MAX_NODES), ("budget_pages", u64),
                ("high_wmark", u64), ("low_wmark", u64), ("flags", u64),
                ("cold", ColdDev * CXL_KV_MAX_COLD), ("user_spaces", u32),
                ("max_spaces", u32), ("user_warm_pages", u64),
                ("user_cold_slots", u64), ("reserved", u64 * 1)]


class Info(ctypes.Structure):
    _fields_ = [("attached", u32), ("nr_nodes", u32),
                ("nodes", u32 * CXL_KV_MAX_NODES), ("nr_cold", u32),
                ("nr_spaces", u32), ("budget_pages", u64), ("high_wmark", u64),
                ("low_wmark", u64), ("warm_pages", u64), ("cold_slots", u64),
                ("cold_used", u64), ("cold_devs", u64 * CXL_KV_MAX_COLD),
                ("features", u64), ("user_spaces", u32), ("max_spaces", u32),
                ("user_warm_pages", u64), ("user_cold_slots", u64),
                ("reserved", u64 * 1)]


STATS_COUNTERS = ("warm_pages", "cold_pages", "faults_zero", "faults_warm",
                  "faults_cold", "promotions", "demotions", "clean_drops",
                  "wb_aborts", "prefetch_issued", "prefetch_used",
                  "nvme_read_bytes", "nvme_write_bytes", "io_errors",
                  "alloc_waits", "alloc_fails", "hints")


class Stats(ctypes.Structure):
    _fields_ = ([("flags", u32), ("pad", u32)] +
                [(n, u64) for n in STATS_COUNTERS] +
                [("lat_hist", u64 * CXL_KV_STATS_HIST), ("gup_kept", u64),
                 ("reserved", u64 * 7)])


class Hint(ctypes.Structure):
    _fields_ = [("layer", u16), ("head", u16), ("block", u32), ("score", u32),
                ("reserved", u32)]


class Hints(ctypes.Structure):
    _fields_ = [("step", u64), ("hints", u64), ("count", u32), ("flags", u32),
                ("done", u32), ("pad", u32), ("reserved", u64 * 2)]


class Range(ctypes.Structure):
    _fields_ = [("layer", u16), ("head", u16), ("first_block", u32),
                ("nr_blocks", u32), ("reserved", u32)]


class Ranges(ctypes.Structure):
    _fields_ = [("step", u64), ("ranges", u64), ("count", u32), ("flags", u32),
                ("done", u64), ("reserved", u64 * 2)]


class Prefetch(ctypes.Structure):
    _fields_ = [("layer", u32), ("flags", u32), ("head_mask", u64),
                ("pos", u64), ("window", u64), ("issued", u64),
                ("resident", u64), ("reserved", u64 * 2)]


class Residency(ctypes.Structure):
    _fields_ = [("layer", u16), ("head", u16), ("flags", u32),
                ("first_block", u32), ("nr_blocks", u32), ("bitmap", u64),
                ("nr_warm", u32), ("nr_cold", u32), ("nr_empty", u32),
                ("nr_pinned", u32), ("reserved", u64 * 2)]


PARAMS = ("alpha_q16", "tau_steps", "score_shift", "sink_tokens",
          "recent_tokens", "pf_window", "pf_window_max", "pf_epoch",
          "phase_window", "phase_enter", "phase_exit", "scan_limit",
          "policy_flags")


class Params(ctypes.Structure):
    _fields_ = ([("mask", u64)] + [(n, u32) for n in PARAMS] +
                [("pad", u32), ("reserved", u64 * 4)])


class SpaceInfo(ctypes.Structure):
    _fields_ = [("layers", u32), ("kv_heads", u32), ("head_dim", u32),
                ("dtype_bytes", u32), ("max_tokens", u64), ("flags", u64),
                ("tokens_per_block", u32), ("token_bytes", u32),
                ("blocks_per_stream", u32), ("pad", u32),
                ("stream_bytes", u64), ("mmap_bytes", u64), ("id", u64),
                ("reserved", u64 * 3)]


class ListEntry(ctypes.Structure):
    _fields_ = [("id", u64), ("uid", u32), ("pad", u32), ("info", SpaceInfo),
                ("stats", Stats)]


CXL_KV_MAX_LIST = 1024

# ---------------------------------------------------------- library structs

class Geometry(ctypes.Structure):
    _fields_ = [("layers", u32), ("kv_heads", u32), ("head_dim", u32),
                ("dtype_bytes", u32), ("max_tokens", u64)]


class Layout(ctypes.Structure):
    _fields_ = [("geo", Geometry), ("page_size", u32), ("token_bytes", u32),
                ("tokens_per_block", u32), ("blocks_per_stream", u32),
                ("stream_bytes", u64), ("mmap_bytes", u64)]


ORIGINS = {0: "unknown", 1: "dram", 2: "cxl", 3: "nvdimm", 4: "hmem"}


def _load():
    names = [os.environ.get("CXL_KV_LIB"), ctypes.util.find_library("cxl_kv"),
             "libcxl_kv.so.1"]
    last = None
    for name in names:
        if not name:
            continue
        try:
            return ctypes.CDLL(name, use_errno=False)
        except OSError as e:
            last = e
    raise OSError("libcxl_kv not found (set CXL_KV_LIB): %s" % last)


lib = _load()

_P, _VP, _I, _U, _U64 = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                         ctypes.c_uint, ctypes.c_uint64)


def _sig(name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)
    return f


_sig("cxl_kv_new", _I, ctypes.POINTER(_P))
_sig("cxl_kv_unref", None, _P)
_sig("cxl_kv_set_sysfs_root", _I, _P, ctypes.c_char_p)
_sig("cxl_kv_set_device_path", _I, _P, ctypes.c_char_p)
_sig("cxl_kv_get_log_priority", _I, _P)
_sig("cxl_kv_set_log_priority", None, _P, _I)
_sig("cxl_kv_refresh_nodes", _I, _P)
_sig("cxl_kv_node_get_first", _P, _P)
_sig("cxl_kv_node_get_next", _P, _P)
_sig("cxl_kv_get_warm_node", _P, _P)
_sig("cxl_kv_node_get_id", _I, _P)
_sig("cxl_kv_node_has_cpus", ctypes.c_bool, _P)
_sig("cxl_kv_node_get_size", ctypes.c_ulonglong, _P)
_sig("cxl_kv_node_get_free", ctypes.c_ulonglong, _P)
_sig("cxl_kv_node_get_memory_tier", _I, _P)
_sig("cxl_kv_node_get_origin", _I, _P)
_sig("cxl_kv_node_get_dax", ctypes.c_char_p, _P)
_sig("cxl_kv_node_get_region", ctypes.c_char_p, _P)
_sig("cxl_kv_get_features", _I, _P, ctypes.POINTER(Features))
_sig("cxl_kv_get_info", _I, _P, ctypes.POINTER(Info))
_sig("cxl_kv_get_global_stats", _I, _P, ctypes.POINTER(Stats))
_sig("cxl_kv_attach", _I, _P, ctypes.POINTER(_U), _U,
     ctypes.POINTER(ctypes.c_char_p), _U, _U64, _U64)
_sig("cxl_kv_detach", _I, _P)
_sig("cxl_kv_layout_init", _I, ctypes.POINTER(Layout), ctypes.POINTER(Geometry), u32)
_sig("cxl_kv_layout_offset", _I, ctypes.POINTER(Layout), u32, u32, _U, _U64,
     ctypes.POINTER(_U64))
_sig("cxl_kv_space_create", _I, _P, ctypes.POINTER(Geometry), ctypes.POINTER(_P))
_sig("cxl_kv_space_open_pid", _I, _P, _I, _I, ctypes.POINTER(_P))
_sig("cxl_kv_space_map", _I, _P, ctypes.POINTER(_VP))
_sig("cxl_kv_space_close", None, _P)
_sig("cxl_kv_space_get_fd", _I, _P)
_sig("cxl_kv_space_get_layout", ctypes.POINTER(Layout), _P)
_sig("cxl_kv_space_use_uring", _I, _P, _U)
_sig("cxl_kv_hints", _I, _P, _U64, ctypes.POINTER(Hint), _U, ctypes.POINTER(_U))
for _n in ("promote", "demote", "pin", "unpin"):
    _sig("cxl_kv_" + _n, _I, _P, ctypes.POINTER(Range), _U, ctypes.POINTER(_U64))
_sig("cxl_kv_access", _I, _P, _U64, ctypes.POINTER(Range), _U, ctypes.POINTER(_U64))
_sig("cxl_kv_prefetch", _I, _P, u32, _U64, _U64, _U64, _U,
     ctypes.POINTER(_U64), ctypes.POINTER(_U64))
_sig("cxl_kv_prefetch_batch", _I, _P, ctypes.POINTER(Prefetch), _U)
_sig("cxl_kv_residency", _I, _P, u32, u32, u32, u32, ctypes.POINTER(_U64),
     ctypes.POINTER(Residency))
_sig("cxl_kv_space_stats", _I, _P, ctypes.POINTER(Stats))
_sig("cxl_kv_params_get", _I, _P, ctypes.POINTER(Params))
_sig("cxl_kv_params_set", _I, _P, ctypes.POINTER(Params))
_sig("cxl_kv_param_lookup", _I, ctypes.c_char_p, ctypes.POINTER(_U64))
_sig("cxl_kv_prep_score", _I, _VP, _I, ctypes.POINTER(Hints))
_sig("cxl_kv_prep_prefetch", _I, _VP, _I, ctypes.POINTER(Prefetch))
try:    # LIBCXL_KV_DEPLOY: a library before it has no LIST
    _sig("cxl_kv_list_owned", _I, _P, ctypes.POINTER(ListEntry), _U,
         ctypes.POINTER(_U))
except AttributeError:
    pass

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


def _check(rc):
    if rc < 0:
        raise OSError(-rc, os.strerror(-rc))
    return rc


def _todict(s):
    out = {}
    for name, _ in s._fields_:
        if name in ("reserved", "pad"):
            continue
        v = getattr(s, name)
        out[name] = list(v) if isinstance(v, ctypes.Array) else v
    return out


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


class Context:
    """A libcxl_kv context (struct cxl_kv_ctx)."""

    def __init__(self, sysfs_root=None, device=None):
        p = _P()
        _check(lib.cxl_kv_new(ctypes.byref(p)))
        self._ctx = p
        if sysfs_root:
            _check(lib.cxl_kv_set_sysfs_root(p, sysfs_root.encode()))
        if device:
            _check(lib.cxl_kv_set_device_path(p, device.encode()))

    def close(self):
        if self._ctx:
            lib.cxl_kv_unref(self._ctx)
            self._ctx = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    @staticmethod
    def _node(n):
        dax = lib.cxl_kv_node_get_dax(n)
        region = lib.cxl_kv_node_get_region(n)
        return {"node": lib.cxl_kv_node_get_id(n),
                "cpus": bool(lib.cxl_kv_node_has_cpus(n)),
                "size": lib.cxl_kv_node_get_size(n),
                "free": lib.cxl_kv_node_get_free(n),
                "memory_tier": lib.cxl_kv_node_get_memory_tier(n),
                "origin": ORIGINS.get(lib.cxl_kv_node_get_origin(n), "unknown"),
                "dax": dax.decode() if dax else None,
                "region": region.decode() if region else None}

    def nodes(self):
        """Memory nodes, re-read from sysfs, as dicts."""
        _check(lib.cxl_kv_refresh_nodes(self._ctx))
        out, n = [], lib.cxl_kv_node_get_first(self._ctx)
        while n:
            out.append(self._node(n))
            n = lib.cxl_kv_node_get_next(n)
        return out

    def warm_node(self):
        n = lib.cxl_kv_get_warm_node(self._ctx)
        return self._node(n) if n else None

    def features(self):
        f = Features()
        _check(lib.cxl_kv_get_features(self._ctx, ctypes.byref(f)))
        return _todict(f)

    def info(self):
        i = Info()
        _check(lib.cxl_kv_get_info(self._ctx, ctypes.byref(i)))
        d = _todict(i)
        d["nodes"] = d["nodes"][:i.nr_nodes]
        d["cold_devs"] = d["cold_devs"][:i.nr_cold]
        return d

    def global_stats(self):
        s = Stats()
        _check(lib.cxl_kv_get_global_stats(self._ctx, ctypes.byref(s)))
        return SpaceStats._from(s)

    def spaces(self, room=64):
        """The caller's own live spaces (every space for root) through LIST:
        [{"id", "uid", "info": dict, "stats": SpaceStats}], no ptrace
        access to their holders needed.  Raises OSError(EOPNOTSUPP) on a
        module or library without LIST."""
        if not hasattr(lib.cxl_kv_list_owned, "argtypes") or \
                lib.cxl_kv_list_owned.argtypes is None:
            raise OSError(95, "libcxl_kv without cxl_kv_list_owned")
        while True:
            arr = (ListEntry * room)()
            total = _U()
            n = _check(lib.cxl_kv_list_owned(self._ctx, arr, room, ctypes.byref(total)))
            if total.value <= room or room >= CXL_KV_MAX_LIST:
                break
            room = min(CXL_KV_MAX_LIST, total.value)
        return [{"id": e.id, "uid": e.uid, "info": _todict(e.info),
                 "stats": SpaceStats._from(e.stats)} for e in arr[:n]]

    def attach(self, nodes, cold, budget_pages, cold_max_bytes=0):
        n = (_U * max(1, len(nodes)))(*nodes)
        c = (ctypes.c_char_p * max(1, len(cold)))(*[x.encode() for x in cold])
        _check(lib.cxl_kv_attach(self._ctx, n, len(nodes), c, len(cold),
                                 budget_pages, cold_max_bytes))

    def detach(self):
        _check(lib.cxl_kv_detach(self._ctx))

    def create_space(self, layers, kv_heads, head_dim, dtype_bytes, max_tokens):
        geo = Geometry(layers, kv_heads, head_dim, dtype_bytes, max_tokens)
        p = _P()
        _check(lib.cxl_kv_space_create(self._ctx, ctypes.byref(geo), ctypes.byref(p)))
        return Space(self, p)

    def open_space(self, pid, fd):
        p = _P()
        _check(lib.cxl_kv_space_open_pid(self._ctx, pid, fd, ctypes.byref(p)))
        return Space(self, p)


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
