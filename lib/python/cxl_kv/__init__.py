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

from ._ffi import (CXL_KV_MAX_COLD, CXL_KV_MAX_LIST, CXL_KV_MAX_NODES,  # noqa: F401
                   CXL_KV_PREFETCH_F_WAIT, CXL_KV_STATS_HIST, K, ORIGINS,
                   PARAMS, STATS_COUNTERS, V, Attach, ColdDev, Features,
                   Geometry, Hint, Hints, Info, Layout, ListEntry, Params,
                   Prefetch, Range, Ranges, Residency, SpaceInfo, Stats, lib,
                   u8, u16, u32, u64)
from ._records import (HINT_DTYPE, SCORE_ONE, ResidencyMap,  # noqa: F401
                       SpaceLayout, SpaceStats, kv_numpy_view, layout,
                       make_hints, make_ranges, np, score_hints)
from ._space import Space  # noqa: F401
from ._context import Context  # noqa: F401

__all__ = ["Context", "Space", "SpaceLayout", "SpaceStats", "ResidencyMap",
           "layout", "K", "V", "PARAMS", "HINT_DTYPE", "lib"]
