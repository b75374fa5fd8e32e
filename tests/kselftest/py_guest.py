#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""py_guest - the Python binding against the real module, in the guest, as
installed by 'make install-python' (not from the source tree).  KTAP.

  installed        cxl_kv is imported from the system's dist-packages
  views_outlive_close  numpy and memoryview views written before close()
                   read back exact after it and stay writable (the old
                   binding unmapped under them: the next access crashed the
                   interpreter); the space lives until the last view goes
  close_releases   close() with no view left releases the space at once
  dataclasses      stats() is a SpaceStats, the layout a SpaceLayout
  numpy_hints      score() with numpy blocks and float masses: every hint
                   applied, the space's hints counter moves by as many
  numpy_residency  residency() gives a numpy bool array: every block but
                   the one demoted needs no I/O; 3 warm, 1 cold
  list_owned       Context.spaces() (LIST) shows the space with its stats
"""

import dataclasses
import gc
import os
import sys
import time

results = []


def case(name, ok, diag=""):
    results.append(ok)
    if not ok and diag:
        print("# %s: %s" % (name, diag))
    print("%s %d %s" % ("ok" if ok else "not ok", len(results), name))
    sys.stdout.flush()


def live_ids(ctx):
    return [s["id"] for s in ctx.spaces()]


def wait_gone(ctx, sid):
    for _ in range(200):
        if sid not in live_ids(ctx):
            return True
        time.sleep(0.01)
    return False


def main():
    print("KTAP version 1")
    print("1..7")
    import numpy as np
    import cxl_kv

    case("installed", "dist-packages" in cxl_kv.__file__ and
         not cxl_kv.__file__.startswith("/work"), cxl_kv.__file__)
    ctx = cxl_kv.Context()
    if not ctx.info()["attached"]:
        print("# no tier set attached")
        return 4

    # views outlive close
    sp = ctx.create_space(layers=2, kv_heads=2, head_dim=128, dtype_bytes=2,
                          max_tokens=256)
    sid = ctx.spaces()[-1]["id"]
    kv = sp.numpy()
    kv[1, 1, cxl_kv.V, :, :] = np.arange(256, dtype=np.float16)[:, None]
    tok = sp.kv(0, 1, cxl_kv.K, 5)
    tok[:] = bytes(range(256))
    sp.close()
    ok = (sp.closed and bool((kv[1, 1, cxl_kv.V, :, 0] ==
                              np.arange(256, dtype=np.float16)).all()) and
          bytes(tok) == bytes(range(256)))
    kv[0, 0, cxl_kv.K, 0, 0] = 7.0          # still writable
    ok = ok and kv[0, 0, cxl_kv.K, 0, 0] == 7.0 and sid in live_ids(ctx)
    try:
        sp.stats()
        ok = False                          # a closed space refuses calls
    except ValueError:
        pass
    del kv, tok
    gc.collect()
    case("views_outlive_close", ok and wait_gone(ctx, sid),
         "views or release wrong")

    sp = ctx.create_space(layers=2, kv_heads=2, head_dim=128, dtype_bytes=2,
                          max_tokens=256)
    sid = ctx.spaces()[-1]["id"]
    sp.map()[0] = 1
    sp.close()
    case("close_releases", wait_gone(ctx, sid), "space %d still listed" % sid)

    sp = ctx.create_space(layers=2, kv_heads=2, head_dim=128, dtype_bytes=2,
                          max_tokens=1024)
    st = sp.stats()
    case("dataclasses", isinstance(st, cxl_kv.SpaceStats) and
         dataclasses.is_dataclass(st) and
         isinstance(sp.layout, cxl_kv.SpaceLayout) and
         sp.layout.token_bytes == 256 and sp.layout["tokens_per_block"] == 16 and
         st["hints"] == st.hints, repr(sp.layout))

    kv = sp.numpy()
    kv[1, 0, :, :, :] = 2.0                 # every block of (1, 0) written
    blocks = np.arange(0, 64, 2)            # hints for never-written blocks
    mass = np.linspace(0.0, 1.0, len(blocks))   # are not applied
    done = sp.score(1, 1, 0, blocks, mass)
    case("numpy_hints", done == len(blocks) and
         sp.stats().hints - st.hints == len(blocks),
         "done %d hints %d" % (done, sp.stats().hints))

    kv[0, 0, :, :64, :] = 1.0               # blocks 0..3 of (0, 0)
    sp.demote([(0, 0, 1, 1)])
    r = sp.residency(0, 0)
    want = np.ones(sp.layout.blocks_per_stream, dtype=bool)
    want[1] = False                         # set: no cold page (no I/O)
    case("numpy_residency", isinstance(r.resident, np.ndarray) and
         r.resident.dtype == bool and bool((r.resident == want).all()) and
         r.nr_cold == 1 and r.nr_warm == 3,
         "resident %s warm %d cold %d" % (np.flatnonzero(r.resident),
                                          r.nr_warm, r.nr_cold))

    mine = [s for s in ctx.spaces() if s["info"]["max_tokens"] == 1024]
    case("list_owned", len(mine) == 1 and mine[0]["uid"] == os.geteuid() and
         mine[0]["stats"].warm_pages >= 3, repr(mine))
    del kv
    sp.close()
    ctx.close()
    print("# totals: pass:%d fail:%d skip:0" % (sum(results),
                                                 len(results) - sum(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
