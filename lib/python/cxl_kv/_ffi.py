# SPDX-License-Identifier: LGPL-2.1-or-later
"""cxl_kv._ffi - the UAPI structures and libcxl_kv through ctypes: lib, with
every function's signature; _check() turns a negative return into OSError."""

import ctypes
import ctypes.util
import os

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
