# SPDX-License-Identifier: LGPL-2.1-or-later
"""cxl_kv._context - Context: the library context, nodes, the module's
features, info and stats, attach and detach, spaces."""

import ctypes

from ._ffi import (CXL_KV_MAX_LIST, Features, Geometry, Info, ListEntry, ORIGINS,
                   Stats, _P, _U, _check, _todict, lib)
from ._records import SpaceStats
from ._space import Space


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
