# SPDX-License-Identifier: LGPL-2.1-or-later
"""A small decode loop on a cxl_kv space, with every value it reads checked.

    python3 -m cxl_kv.example [--layers 8] [--kv-heads 4] [--head-dim 128]
                              [--tokens 2048] [--prefill 1536] [--steps 64]

Needs numpy and an attached tier set (cxl-kv apply / cxl-kv attach).  Makes
a space, writes the prompt's K and V (prefill) through a numpy view, then
per step and layer writes the new token, reads the attention sink, the
recent window and a few older blocks (cold ones fault back in), checks them,
and sends the blocks' attention mass as hints.  Prints one line
"py-example: ..." and exits 1 on a wrong value.
"""

import argparse
import sys

import numpy as np

import cxl_kv


def pattern(layer, head, kind, tokens):
    """The value every element of a token's K or V vector holds (an integer
    below 2048: exact in float16)."""
    return ((tokens * 31 + layer * 7 + head * 3 + kind) % 2048).astype(np.float16)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m cxl_kv.example")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=2048)
    ap.add_argument("--prefill", type=int, default=1536)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    if a.prefill + a.steps > a.tokens:
        ap.error("prefill + steps must fit in tokens")
    rng = np.random.default_rng(a.seed)
    with cxl_kv.Context() as ctx:
        if not ctx.info()["attached"]:
            print("py-example: no tier set attached (cxl-kv apply)", file=sys.stderr)
            return 1
        sp = ctx.create_space(layers=a.layers, kv_heads=a.kv_heads,
                              head_dim=a.head_dim, dtype_bytes=2,
                              max_tokens=a.tokens)
        lo = sp.layout
        tpb = lo.tokens_per_block
        kv = sp.numpy()
        for layer in range(a.layers):
            for head in range(a.kv_heads):
                for kind in (cxl_kv.K, cxl_kv.V):
                    kv[layer, head, kind, :a.prefill, :] = \
                        pattern(layer, head, kind, np.arange(a.prefill))[:, None]
        checked = bad = 0
        for step in range(a.steps):
            t = a.prefill + step
            nblk = t // tpb + 1
            for layer in range(a.layers):
                for head in range(a.kv_heads):
                    for kind in (cxl_kv.K, cxl_kv.V):
                        kv[layer, head, kind, t, :] = pattern(layer, head, kind,
                                                              np.array(t))
                    # sink, the recent window and two older blocks
                    blocks = np.unique(np.concatenate((
                        [0], np.arange(max(0, nblk - 4), nblk),
                        rng.integers(0, nblk, 2))))
                    for b in blocks:
                        toks = np.arange(b * tpb, min((b + 1) * tpb, t + 1))
                        for kind in (cxl_kv.K, cxl_kv.V):
                            got = kv[layer, head, kind, toks, :]
                            want = pattern(layer, head, kind, toks)[:, None]
                            checked += got.size
                            bad += int(np.count_nonzero(got != want))
                    mass = rng.dirichlet(np.ones(len(blocks)))
                    sp.score(step, layer, head, blocks, mass)
        st = sp.stats()
        res = sp.residency(0, 0)
        print("py-example: layers=%d kv_heads=%d tokens=%d steps=%d checked=%d "
              "wrong=%d warm_pages=%d cold_pages=%d faults_cold=%d promotions=%d "
              "demotions=%d hints=%d resident_blocks_0_0=%d/%d"
              % (a.layers, a.kv_heads, a.tokens, a.steps, checked, bad,
                 st.warm_pages, st.cold_pages, st.faults_cold, st.promotions,
                 st.demotions, st.hints, int(np.count_nonzero(res.resident)),
                 len(res.resident)))
        del kv
        sp.close()
    return 1 if bad or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
