# SPDX-License-Identifier: GPL-2.0
"""Host-side tests of the cxl-kv CLI: JSON schema of `list` on fake sysfs
trees (cxl and nvdimm shapes), `region` against a fake CXL bus, exit status 2
with the usage for bad arguments, 1 for failures.  No module needed.

    make test-python      (CXLKV_CLI=build/cxl-kv)
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.environ.get("CXLKV_CLI", os.path.join(TOP, "build", "cxl-kv"))

NODE_SCHEMA = {"node": int, "cpus": bool, "size": int, "free": int,
               "memory_tier": int, "origin": str, "dax": (str, type(None)),
               "region": (str, type(None)), "warm": bool}


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("CXLKV_NVME", None)
    e.pop("CXLKV_WARM_NODE", None)
    e.update(env or {})
    p = subprocess.run([CLI] + list(args), capture_output=True, text=True, env=e)
    return p.returncode, p.stdout, p.stderr


def put(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def link(root, rel, target):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


def fake_sysfs(root, origin):
    """node0 DRAM with CPUs; node1 CPU-less from dax0.0 (cxl or nvdimm)."""
    for n, cpus, kb in ((0, "0-1", 2097152), (1, "", 524288)):
        put(root, "devices/system/node/node%d/cpulist" % n, cpus + "\n")
        put(root, "devices/system/node/node%d/meminfo" % n,
            "Node %d MemTotal: %d kB\nNode %d MemFree: %d kB\n" % (n, kb, n, kb // 2))
    put(root, "devices/virtual/memory_tiering/memory_tier4/nodelist", "0\n")
    put(root, "devices/virtual/memory_tiering/memory_tier22/nodelist", "1\n")
    dev = ("devices/platform/ACPI0017:00/root0/decoder0.0/region0/dax_region0/dax0.0"
           if origin == "cxl" else "devices/LNXSYSTM:00/ndbus0/region0/dax0.0/dax0.0")
    put(root, dev + "/target_node", "1\n")
    os.makedirs(os.path.join(root, "bus/dax/drivers/kmem"))
    depth = dev.count("/") + 1
    link(root, dev + "/driver", "../" * depth + "bus/dax/drivers/kmem")
    link(root, "bus/dax/devices/dax0.0", "../../../" + dev)


class CliList(unittest.TestCase):
    def setUp(self):
        if not os.access(CLI, os.X_OK):
            self.skipTest("%s not built" % CLI)
        self.root = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.root)

    def check_schema(self, doc):
        self.assertEqual(set(doc), {"nodes", "tiers", "module", "spaces"})
        for n in doc["nodes"]:
            self.assertEqual(set(n), set(NODE_SCHEMA))
            for k, t in NODE_SCHEMA.items():
                self.assertIsInstance(n[k], t, k)
            if isinstance(n["cpus"], bool):
                self.assertNotIsInstance(n["node"], bool)
        for t in doc["tiers"]:
            self.assertEqual(set(t), {"memory_tier", "nodes"})
            self.assertTrue(all(isinstance(x, int) for x in t["nodes"]))
        self.assertIsInstance(doc["module"]["loaded"], bool)
        self.assertIsInstance(doc["spaces"], list)

    def test_list_cxl(self):
        fake_sysfs(self.root, "cxl")
        rc, out, err = run("--sysfs-root", self.root, "--device", "/nonexistent", "list")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.check_schema(doc)
        n1 = doc["nodes"][1]
        self.assertEqual((n1["node"], n1["cpus"], n1["origin"], n1["dax"],
                          n1["region"], n1["warm"], n1["memory_tier"]),
                         (1, False, "cxl", "dax0.0", "region0", True, 22))
        self.assertEqual(n1["size"], 524288 << 10)
        self.assertEqual(doc["nodes"][0]["origin"], "dram")
        self.assertEqual(doc["tiers"], [{"memory_tier": 4, "nodes": [0]},
                                        {"memory_tier": 22, "nodes": [1]}])
        self.assertEqual(doc["module"], {"loaded": False})

    def test_list_nvdimm_and_human(self):
        fake_sysfs(self.root, "nvdimm")
        rc, out, err = run("--sysfs-root", self.root, "--device", "/nonexistent", "list")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.check_schema(doc)
        self.assertEqual(doc["nodes"][1]["origin"], "nvdimm")
        rc, out, err = run("--sysfs-root", self.root, "--device", "/nonexistent",
                           "list", "--human")
        self.assertEqual(rc, 0, err)
        self.assertIn("warm node: 1", out)
        self.assertIn("module: not loaded", out)

    def test_region_on_fake_cxl_bus(self):
        fake_sysfs(self.root, "cxl")
        base = "devices/platform/ACPI0017:00/root0"
        put(self.root, "bus/cxl/devices/mem0/ram/size", "0x10000000\n")
        put(self.root, base + "/decoder0.0/create_ram_region", "region1\n")
        put(self.root, base + "/decoder0.0/interleave_granularity", "256\n")
        link(self.root, "bus/cxl/devices/decoder0.0", "../../../" + base + "/decoder0.0")
        ep = base + "/port1/endpoint2"
        put(self.root, ep + "/decoder2.0/mode", "none\n")
        put(self.root, ep + "/decoder2.0/dpa_size", "0\n")
        link(self.root, ep + "/uport", "../../../../../bus/cxl/devices/mem0")
        link(self.root, "bus/cxl/devices/decoder2.0", "../../../" + ep + "/decoder2.0")
        for a in ("interleave_ways", "interleave_granularity", "size", "target0",
                  "commit"):
            put(self.root, base + "/decoder0.0/region1/" + a, "\n")
        link(self.root, "bus/cxl/devices/region1", "../../../" + base + "/decoder0.0/region1")
        put(self.root, "bus/cxl/drivers/cxl_region/bind", "")
        # the dax device the kernel would create under region1
        dev = base + "/decoder0.0/region1/dax_region1/dax1.0"
        put(self.root, dev + "/target_node", "2\n")
        link(self.root, dev + "/driver", "../" * (dev.count("/") + 1) +
             "bus/dax/drivers/device_dax")
        link(self.root, "bus/dax/devices/dax1.0", "../../../" + dev)
        put(self.root, "bus/dax/drivers/device_dax/unbind", "")
        put(self.root, "bus/dax/drivers/kmem/new_id", "")
        put(self.root, "bus/dax/drivers/kmem/bind", "")
        put(self.root, "devices/system/memory/memory9/state", "offline\n")
        os.makedirs(os.path.join(self.root, "devices/system/memory/memory9/node2"))
        rc, out, err = run("--sysfs-root", self.root, "region")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), {"memdev": "mem0", "region": "region1",
                                           "dax": "dax1.0", "node": 2})
        with open(os.path.join(self.root, "devices/system/memory/memory9/state")) as f:
            self.assertEqual(f.read(), "online_kernel")
        with open(os.path.join(self.root, base + "/decoder0.0/region1/target0")) as f:
            self.assertEqual(f.read(), "decoder2.0")


class CliArgs(unittest.TestCase):
    BAD = [[], ["bogus"], ["list", "extra"], ["list", "--frob"],
           ["attach"], ["attach", "--cold", "/dev/x", "--budget", "x"],
           ["attach", "--cold", "/dev/x", "--node", "a"],
           ["attach", "--cold", "/dev/x", "--budget", "1M", "--budget-pages", "9"],
           ["attach", "--cold", "a,b,c,d,e"], ["detach", "now"],
           ["stats", "--watch", "0"], ["stats", "--count", "2"],
           ["stats", "--space", "abc"], ["stats", "--space", "0:1"],
           ["params"], ["params", "frob"], ["params", "set"],
           ["params", "set", "nope=1"], ["params", "set", "pf_window=x"],
           ["params", "get", "pf_window=1"], ["region", "--dax", "x"],
           ["region", "--memdev", "mem0", "--dax", "dax0.0"],
           ["--sysfs-root"], ["--sysfs-root", "relative", "list"], ["--frob", "list"]]

    def setUp(self):
        if not os.access(CLI, os.X_OK):
            self.skipTest("%s not built" % CLI)

    def test_bad_arguments_exit_2_with_usage(self):
        for args in self.BAD:
            rc, out, err = run(*args)
            self.assertEqual(rc, 2, "cxl-kv %s: %d %s" % (" ".join(args), rc, err))
            self.assertIn("usage: cxl-kv", err, args)
            self.assertEqual(out, "", args)

    def test_help_exit_0(self):
        for args in (["help"], ["--help"], ["list", "--help"], ["params", "--help"]):
            rc, out, err = run(*args)
            self.assertEqual(rc, 0, args)
            self.assertIn("usage: cxl-kv", out)

    VERBS = ["list", "region", "attach", "detach", "stats", "params", "spaces",
             "apply", "help"]

    def test_verb_help(self):
        """Each command's --help is its own usage (not the global one)."""
        _, glob, _ = run("--help")
        for verb in self.VERBS:
            for args in ([verb, "--help"], ["help", verb]):
                rc, out, err = run(*args)
                self.assertEqual(rc, 0, args)
                self.assertTrue(out.startswith("usage: cxl-kv " + verb), (args, out))
                self.assertNotEqual(out, glob, args)
                self.assertEqual(err, "", args)
        rc, out, err = run("help", "bogus")
        self.assertEqual(rc, 2)

    def test_version(self):
        with open(os.path.join(TOP, "VERSION")) as f:
            want = f.read().strip()
        for args in (["--version"], ["version"]):
            rc, out, err = run(*args)
            self.assertEqual(rc, 0, args)
            self.assertTrue(out.startswith("cxl-kv %s (" % want), out)

    def test_no_module_names_device_and_modprobe(self):
        for args in (["--device", "/nonexistent/cxl_kv", "detach"],
                     ["--device", "/nonexistent/cxl_kv", "stats"],
                     ["--device", "/nonexistent/cxl_kv", "attach", "--node",
                      "1", "--cold", "/dev/x"]):
            rc, out, err = run(*args)
            self.assertEqual(rc, 1, args)
            self.assertIn("/nonexistent/cxl_kv", err, args)
            self.assertIn("modprobe cxl_kv", err, args)

    def test_region_checks_dax_before_modprobe(self):
        """region --dax dax9.9 fails on the name before it loads kmem (a
        modprobe on PATH records any call)."""
        with tempfile.TemporaryDirectory() as d:
            mark = os.path.join(d, "called")
            put(d, "modprobe", "#!/bin/sh\necho \"$@\" >> %s\n" % mark)
            os.chmod(os.path.join(d, "modprobe"), 0o755)
            rc, out, err = run("region", "--dax", "dax9.9",
                               env={"PATH": d + ":" + os.environ["PATH"]})
            self.assertEqual(rc, 1, err)
            self.assertIn("dax9.9", err)
            self.assertFalse(os.path.exists(mark), "modprobe ran before the check")

    def test_apply_checks_config_first(self):
        """apply: an unknown key names file and line; bad names are all
        reported; nothing runs (a modprobe on PATH records any call)."""
        with tempfile.TemporaryDirectory() as d:
            mark = os.path.join(d, "called")
            put(d, "modprobe", "#!/bin/sh\necho \"$@\" >> %s\n" % mark)
            os.chmod(os.path.join(d, "modprobe"), 0o755)
            env = {"PATH": d + ":" + os.environ["PATH"]}
            conf = os.path.join(d, "c.conf")
            put(d, "c.conf", "dax = dax0.0\n# comment\ncold = /dev/null\nbugdet = 8M\n")
            rc, out, err = run("apply", "--config", conf, env=env)
            self.assertEqual(rc, 1, err)
            self.assertIn("c.conf:4: unknown key 'bugdet'", err)
            put(d, "c.conf", "dax = dax9.9\nnodes = 77\ncold = /dev/null, /nonexistent\n")
            rc, out, err = run("apply", "--config", conf, env=env)
            self.assertEqual(rc, 1, err)
            for want in ("dax9.9", "node 77", "/dev/null is not a block device",
                         "/nonexistent"):
                self.assertIn(want, err)
            put(d, "c.conf", "budget = 8M\n")
            rc, out, err = run("apply", "--config", conf, env=env)
            self.assertEqual(rc, 1, err)
            self.assertIn("no cold device", err)
            self.assertIn("no warm tier", err)
            rc, out, err = run("apply", "--config", os.path.join(d, "none.conf"), env=env)
            self.assertEqual(rc, 1, err)
            self.assertEqual(out, "")
            self.assertFalse(os.path.exists(mark), "modprobe ran before the checks")

    def test_failures_exit_1(self):
        for args in (["--device", "/nonexistent", "stats"],
                     ["--device", "/nonexistent", "detach"],
                     ["--device", "/nonexistent", "attach", "--node", "1",
                      "--cold", "/dev/x"],
                     ["--device", "/nonexistent", "params", "get"],
                     ["--sysfs-root", "/nonexistent", "list"],
                     ["--sysfs-root", "/nonexistent", "region", "--dax", "dax0.0"]):
            rc, out, err = run(*args)
            self.assertEqual(rc, 1, "cxl-kv %s: %d %s" % (" ".join(args), rc, err))
            self.assertTrue(err.startswith("cxl-kv: "), err)


if __name__ == "__main__":
    unittest.main()
