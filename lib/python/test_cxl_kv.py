# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host-side tests of the cxl_kv Python binding: marshalling only (no module).

    make test-python     (CXL_KV_LIB=build/libcxl_kv.so.1 python3 -m unittest)
"""

import ctypes
import errno
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cxl_kv  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

STRUCTS = {
    "Features": "cxl_kv_features", "ColdDev": "cxl_kv_cold_dev",
    "Attach": "cxl_kv_attach", "Info": "cxl_kv_info", "Stats": "cxl_kv_stats",
    "Hint": "cxl_kv_hint", "Hints": "cxl_kv_hints", "Range": "cxl_kv_range",
    "Ranges": "cxl_kv_ranges", "Prefetch": "cxl_kv_prefetch",
    "Residency": "cxl_kv_residency", "Params": "cxl_kv_params",
    "SpaceInfo": "cxl_kv_space_info", "Geometry": "cxl_kv_geometry",
    "Layout": "cxl_kv_layout", "ListEntry": "cxl_kv_list_entry",
}


def c_layout():
    """sizeof and every field offset of the C structs, from a compiled probe."""
    if not shutil.which("cc"):
        return None
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include <libcxl_kv.h>',
             'int main(void) {']
    for py, c in STRUCTS.items():
        cls = getattr(cxl_kv, py)
        lines.append('printf("%s size %%zu\\n", sizeof(struct %s));' % (py, c))
        for name, _ in cls._fields_:
            lines.append('printf("%s.%s %%zu\\n", offsetof(struct %s, %s));'
                         % (py, name, c, name))
    lines.append("return 0; }")
    d = tempfile.mkdtemp()
    try:
        src, exe = os.path.join(d, "probe.c"), os.path.join(d, "probe")
        with open(src, "w") as f:
            f.write("\n".join(lines))
        subprocess.check_call(["cc", "-I" + os.path.join(TOP, "lib"),
                               "-I" + os.path.join(TOP, "include/uapi"),
                               "-o", exe, src])
        out = subprocess.check_output([exe], text=True)
    finally:
        shutil.rmtree(d)
    probe = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            probe[parts[0] + ".size"] = int(parts[2])
        else:
            probe[parts[0]] = int(parts[1])
    return probe


class Marshalling(unittest.TestCase):
    def test_struct_layouts_match_c(self):
        probe = c_layout()
        if probe is None:
            self.skipTest("no C compiler")
        for py in STRUCTS:
            cls = getattr(cxl_kv, py)
            self.assertEqual(ctypes.sizeof(cls), probe[py + ".size"], py)
            for name, _ in cls._fields_:
                self.assertEqual(getattr(cls, name).offset, probe[py + "." + name],
                                 "%s.%s" % (py, name))

    def test_hint_and_range_bytes(self):
        h = cxl_kv.make_hints([(1, 2, 3, 0x10000), (513, 7, 65535, 5)])
        self.assertEqual(bytes(h)[:16], bytes([1, 0, 2, 0, 3, 0, 0, 0,
                                               0, 0, 1, 0, 0, 0, 0, 0]))
        self.assertEqual(h[1].layer, 513)
        r = cxl_kv.make_ranges([(4, 1, 10, 6)])
        self.assertEqual(bytes(r), bytes([4, 0, 1, 0, 10, 0, 0, 0, 6, 0, 0, 0,
                                          0, 0, 0, 0]))

    def test_numpy_hints(self):
        try:
            import numpy as np
        except ImportError:
            self.skipTest("numpy not installed")
        tuples = [(1, 2, 3, 0x10000), (513, 7, 65535, 5)]
        a = cxl_kv.make_hints(np.array(tuples))
        self.assertEqual(a.dtype, cxl_kv.HINT_DTYPE)
        self.assertEqual(a.tobytes(), bytes(cxl_kv.make_hints(tuples)))
        self.assertEqual(cxl_kv.HINT_DTYPE.itemsize, ctypes.sizeof(cxl_kv.Hint))
        h = cxl_kv.score_hints(3, [0, 1], [4, 9], [1.0, 0.25])
        self.assertEqual(h["layer"].tolist(), [3, 3])
        self.assertEqual(h["head"].tolist(), [0, 1])
        self.assertEqual(h["block"].tolist(), [4, 9])
        self.assertEqual(h["score"].tolist(), [0x10000, 0x4000])
        self.assertEqual(cxl_kv.score_hints(0, 0, [1], [7.0])["score"][0], 0x10000)
        for bad in (np.array([[1, 2, 3]]), np.array([[-1, 0, 0, 0]]),
                    np.array([[70000, 0, 0, 0]]), np.array([[0.5, 0, 0, 0]])):
            with self.assertRaises(ValueError):
                cxl_kv.make_hints(bad)

    def test_records(self):
        lo = cxl_kv.layout(2, 2, 128, 2, 20)
        self.assertIsInstance(lo, cxl_kv.SpaceLayout)
        self.assertEqual(lo.token_bytes, lo["token_bytes"])
        self.assertIn("mmap_bytes", lo.keys())
        st = cxl_kv.SpaceStats._from(cxl_kv.Stats(prefetch_issued=4, prefetch_used=3))
        self.assertEqual(st.prefetch_accuracy, 0.75)
        self.assertIsNone(cxl_kv.SpaceStats._from(cxl_kv.Stats()).prefetch_accuracy)
        self.assertEqual(len(st.lat_hist), cxl_kv.CXL_KV_STATS_HIST)

    def test_layout(self):
        lo = cxl_kv.layout(32, 8, 128, 2, 1000)
        self.assertEqual(lo["token_bytes"], 256)
        self.assertEqual(lo["tokens_per_block"], 16)
        self.assertEqual(lo["blocks_per_stream"], 63)
        self.assertEqual(lo["mmap_bytes"], 2 * 32 * 8 * 63 * 4096)
        with self.assertRaises(OSError) as cm:
            cxl_kv.layout(32, 8, 96, 2, 1000)
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        with self.assertRaises(OSError) as cm:
            cxl_kv.layout(80, 8, 128, 2, 1 << 20)
        self.assertEqual(cm.exception.errno, errno.E2BIG)

    def test_prep_builders_fill_sqe(self):
        sqe = (ctypes.c_uint8 * 64)(*([0xa5] * 64))
        h = cxl_kv.Hints(step=9, count=1)
        self.assertEqual(cxl_kv.lib.cxl_kv_prep_score(sqe, 7, ctypes.byref(h)), 0)
        b = bytes(sqe)
        self.assertEqual(b[0], 46)                       # IORING_OP_URING_CMD
        self.assertEqual(int.from_bytes(b[4:8], "little"), 7)
        cmd_op = int.from_bytes(b[8:12], "little")
        self.assertEqual(cmd_op & 0xff, 0x20)            # CXL_KV_HINTS nr
        self.assertEqual((cmd_op >> 8) & 0xff, 0xC4)     # CXL_KV_IOC_TYPE
        self.assertEqual((cmd_op >> 16) & 0x3fff, ctypes.sizeof(cxl_kv.Hints))
        self.assertEqual(int.from_bytes(b[48:56], "little"), ctypes.addressof(h))
        self.assertEqual(int.from_bytes(b[56:60], "little"), ctypes.sizeof(h))
        zero = b[1:4] + b[12:48] + b[60:64]
        self.assertEqual(zero, bytes(len(zero)))
        pf = cxl_kv.Prefetch(layer=1, head_mask=3, pos=10, window=4)
        pf.issued = 99
        self.assertEqual(cxl_kv.lib.cxl_kv_prep_prefetch(sqe, 7, ctypes.byref(pf)), 0)
        self.assertEqual(pf.issued, 0)
        self.assertEqual(cxl_kv.lib.cxl_kv_prep_prefetch(sqe, -1, ctypes.byref(pf)),
                         -errno.EBADF)

    def test_numpy_view_shape(self):
        try:
            import numpy  # noqa: F401
        except ImportError:
            self.skipTest("numpy not installed")
        lo = cxl_kv.layout(2, 2, 128, 2, 20)
        buf = bytearray(lo["mmap_bytes"])
        a = cxl_kv.kv_numpy_view(buf, lo)
        self.assertEqual(a.shape, (2, 2, 2, 20, 128))
        a[1, 0, 1, 19, 0] = 1.0
        off = ((1 * 2 + 0) * 2 + 1) * lo["stream_bytes"] + 19 * 256
        self.assertEqual(buf[off:off + 2], bytes([0x00, 0x3c]))  # fp16 1.0


class WithoutModule(unittest.TestCase):
    def setUp(self):
        self.ctx = cxl_kv.Context(device="/nonexistent/cxl_kv")

    def tearDown(self):
        self.ctx.close()

    def test_errors_are_oserror_with_errno(self):
        with self.assertRaises(OSError) as cm:
            self.ctx.features()
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        with self.assertRaises(OSError) as cm:
            self.ctx.create_space(1, 1, 128, 2, 16)
        self.assertEqual(cm.exception.errno, errno.ENOENT)

    def test_attach_validates_arguments(self):
        for nodes, cold, pages in (([], ["/dev/x"], 1024), ([1], [], 1024),
                                   ([1], ["/dev/x"], 10), ([1, 1], ["/dev/x"], 1024)):
            with self.assertRaises(OSError) as cm:
                self.ctx.attach(nodes, cold, pages)
            self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_bad_paths(self):
        with self.assertRaises(OSError):
            cxl_kv.Context(sysfs_root="relative")

    def test_nodes_from_fake_sysfs(self):
        d = tempfile.mkdtemp()
        try:
            for n, cpus, kb in ((0, "0-1", 1048576), (1, "", 262144)):
                p = os.path.join(d, "devices/system/node/node%d" % n)
                os.makedirs(p)
                with open(os.path.join(p, "cpulist"), "w") as f:
                    f.write(cpus + "\n")
                with open(os.path.join(p, "meminfo"), "w") as f:
                    f.write("Node %d MemTotal: %d kB\nNode %d MemFree: %d kB\n"
                            % (n, kb, n, kb // 2))
            with cxl_kv.Context(sysfs_root=d) as ctx:
                nodes = ctx.nodes()
                self.assertEqual([n["node"] for n in nodes], [0, 1])
                self.assertTrue(nodes[0]["cpus"])
                self.assertEqual(nodes[1]["size"], 262144 << 10)
                self.assertEqual(nodes[1]["memory_tier"], -1)
                self.assertEqual(nodes[0]["origin"], "dram")
                self.assertEqual(ctx.warm_node()["node"], 1)
        finally:
            shutil.rmtree(d)

    def test_param_names(self):
        for i, name in enumerate(cxl_kv.PARAMS):
            bit = ctypes.c_uint64()
            self.assertEqual(cxl_kv.lib.cxl_kv_param_lookup(name.encode(),
                                                            ctypes.byref(bit)), 0)
            self.assertEqual(bit.value, 1 << i)


if __name__ == "__main__":
    unittest.main()
