// SPDX-License-Identifier: GPL-2.0
/*
 * kv_ctl - the control device and every bad-input path: attach/detach,
 * info, features, non-admin -EPERM, bad nodes/devices/sizes, reserved
 * fields, wrong sizes, bad geometry, unknown flags, bad ranges of every
 * space command, mmap misuse and SIGBUS past the end.
 */
#include <sys/prctl.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "kv_test.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

/* Run @cmd on /dev/cxl_kv in a child without CAP_SYS_ADMIN. */
static int as_nobody(unsigned long cmd, void *arg)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = kv_open_ctl();

		if (fd < 0 || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		_exit(-kv_ioctl(fd, cmd, arg));
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? -WEXITSTATUS(st) : -1000;
}

static int dmesg_has(const char *needle)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "dmesg | grep -q '%s'", needle);
	return system(cmd) == 0;
}

static void space_cmd_inputs(int ctl)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_hint hint[2] = { 0 };
	struct cxl_kv_hints h = { 0 };
	struct cxl_kv_range r = { 0 };
	struct cxl_kv_ranges q = { 0 };
	struct cxl_kv_prefetch p = { 0 };
	struct cxl_kv_residency res = { 0 };
	struct cxl_kv_params prm = { 0 };
	struct cxl_kv_stats st;
	struct cxl_kv_space_info si = { 0 };
	uint64_t bm[4];
	int fd, ret;
	char *m;

	kv_geom(&c, 2, 2, 128, 256);	/* 16 blocks per stream */
	fd = kv_space(ctl, &c);
	T("space_create", fd >= 0 && c.mmap_bytes == 2 * 2 * 2 * 16 * KV_PAGE &&
	  c.tokens_per_block == 16 && c.blocks_per_stream == 16,
	  "fd %d mmap %llu", fd, (unsigned long long)c.mmap_bytes);
	if (fd < 0)
		return;

	ret = kv_ioctl(fd, CXL_KV_SPACE_INFO, &si);
	T("space_info", !ret && si.layers == 2 && si.kv_heads == 2 &&
	  si.stream_bytes == 16 * KV_PAGE && si.id, "ret %d", ret);
	si.reserved[0] = 1;
	T("space_info_reserved", kv_ioctl(fd, CXL_KV_SPACE_INFO, &si) == -EINVAL, "-");
	T("ctl_cmd_on_space_fd", kv_ioctl(fd, CXL_KV_INFO, &si) == -ENOTTY, "-");
	T("space_cmd_on_ctl_fd", kv_ioctl(ctl, CXL_KV_PROMOTE, &q) == -ENOTTY, "-");

	/*
	 * hints: to layer 1 head 1 block 0, written first (a hint for a
	 * never-written block is not applied, not counted in done)
	 */
	m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m != MAP_FAILED) {
		m[6 * c.stream_bytes] = 1;	/* stream (1 * 2 + 1) * 2 */
		munmap(m, c.mmap_bytes);
	}
	h.hints = (uintptr_t)hint;
	h.count = 2;
	h.step = 1;
	hint[0].layer = hint[1].layer = 1;
	hint[0].head = hint[1].head = 1;
	hint[0].score = 1000;
	T("hints_ok", kv_ioctl(fd, CXL_KV_HINTS, &h) == 0 && h.done == 2, "done %u", h.done);
	hint[1].block = 16;
	T("hints_bad_block", kv_ioctl(fd, CXL_KV_HINTS, &h) == -EINVAL && h.done == 1,
	  "done %u", h.done);
	hint[1].block = 0;
	hint[1].reserved = 1;
	T("hints_reserved", kv_ioctl(fd, CXL_KV_HINTS, &h) == -EINVAL, "-");
	hint[1].reserved = 0;
	h.count = 0;
	T("hints_count0", kv_ioctl(fd, CXL_KV_HINTS, &h) == -EINVAL, "-");
	h.count = 2;
	h.flags = 1;
	T("hints_flags", kv_ioctl(fd, CXL_KV_HINTS, &h) == -EINVAL, "-");
	h.flags = 0;
	h.hints = 8;
	T("hints_efault", kv_ioctl(fd, CXL_KV_HINTS, &h) == -EFAULT, "-");

	/* ranges */
	q.ranges = (uintptr_t)&r;
	q.count = 1;
	r.nr_blocks = 16;
	T("promote_ok", kv_ioctl(fd, CXL_KV_PROMOTE, &q) == 0, "-");
	r.nr_blocks = 17;
	T("promote_past_end", kv_ioctl(fd, CXL_KV_PROMOTE, &q) == -EINVAL, "-");
	r.nr_blocks = 0;
	T("demote_zero_blocks", kv_ioctl(fd, CXL_KV_DEMOTE, &q) == -EINVAL, "-");
	r.nr_blocks = 1;
	r.layer = 2;
	T("pin_bad_layer", kv_ioctl(fd, CXL_KV_PIN, &q) == -EINVAL, "-");
	r.layer = 0;
	r.head = 2;
	T("unpin_bad_head", kv_ioctl(fd, CXL_KV_UNPIN, &q) == -EINVAL, "-");
	r.head = 0;
	r.reserved = 1;
	T("access_reserved", kv_ioctl(fd, CXL_KV_ACCESS, &q) == -EINVAL, "-");
	r.reserved = 0;
	q.reserved[1] = 1;
	T("ranges_reserved", kv_ioctl(fd, CXL_KV_DEMOTE, &q) == -EINVAL, "-");
	q.reserved[1] = 0;
	q.flags = 4;
	T("ranges_flags", kv_ioctl(fd, CXL_KV_DEMOTE, &q) == -EINVAL, "-");
	q.flags = 0;
	q.step = 3;
	T("demote_step_nonzero", kv_ioctl(fd, CXL_KV_DEMOTE, &q) == -EINVAL, "-");
	T("access_step_ok", kv_ioctl(fd, CXL_KV_ACCESS, &q) == 0 && q.done == 1, "-");
	q.step = 0;

	/* prefetch */
	p.head_mask = 3;
	p.pos = 100;
	p.window = 32;
	p.flags = CXL_KV_PREFETCH_F_WAIT;
	T("prefetch_ok", kv_ioctl(fd, CXL_KV_PREFETCH, &p) == 0, "-");
	p.head_mask = 4;
	T("prefetch_bad_mask", kv_ioctl(fd, CXL_KV_PREFETCH, &p) == -EINVAL, "-");
	p.head_mask = 0;
	T("prefetch_zero_mask", kv_ioctl(fd, CXL_KV_PREFETCH, &p) == -EINVAL, "-");
	p.head_mask = 1;
	p.pos = 256;
	T("prefetch_pos_past_end", kv_ioctl(fd, CXL_KV_PREFETCH, &p) == -EINVAL, "-");
	p.pos = 0;
	p.flags = 2;
	T("prefetch_flags", kv_ioctl(fd, CXL_KV_PREFETCH, &p) == -EINVAL, "-");

	/* residency */
	res.bitmap = (uintptr_t)bm;
	res.nr_blocks = 16;
	T("residency_ok", kv_ioctl(fd, CXL_KV_RESIDENCY, &res) == 0 &&
	  res.nr_empty == 16, "empty %u", res.nr_empty);
	res.first_block = 1;
	T("residency_past_end", kv_ioctl(fd, CXL_KV_RESIDENCY, &res) == -EINVAL, "-");
	res.first_block = 0;
	res.flags = 1;
	T("residency_flags", kv_ioctl(fd, CXL_KV_RESIDENCY, &res) == -EINVAL, "-");

	/* params */
	T("params_get", kv_ioctl(fd, CXL_KV_PARAMS_GET, &prm) == 0 &&
	  prm.mask == CXL_KV_PARAM_ALL && prm.tau_steps, "-");
	prm.mask = CXL_KV_PARAM_TAU;
	prm.tau_steps = 500;
	T("params_set", kv_ioctl(fd, CXL_KV_PARAMS_SET, &prm) == 0, "-");
	memset(&prm, 0, sizeof(prm));
	T("params_roundtrip", kv_ioctl(fd, CXL_KV_PARAMS_GET, &prm) == 0 &&
	  prm.tau_steps == 500, "tau %u", prm.tau_steps);
	prm.mask = CXL_KV_PARAM_TAU;
	prm.tau_steps = 0;
	T("params_set_invalid", kv_ioctl(fd, CXL_KV_PARAMS_SET, &prm) == -EINVAL, "-");
	prm.mask = 1ULL << 40;
	T("params_set_unknown_mask", kv_ioctl(fd, CXL_KV_PARAMS_SET, &prm) == -EINVAL, "-");

	/* stats */
	T("space_stats", kv_stats(fd, CXL_KV_SPACE_STATS, &st) == 0, "-");
	st.reserved[0] = 1;
	T("stats_reserved", kv_ioctl(fd, CXL_KV_SPACE_STATS, &st) == -EINVAL, "-");

	/* wrong size: same nr, another size */
	T("wrong_size", kv_ioctl(fd, _IOWR(CXL_KV_IOC_TYPE, 0x27, uint64_t), &bm) == -ENOTTY, "-");
	T("unknown_nr", kv_ioctl(fd, _IOWR(CXL_KV_IOC_TYPE, 0x3f, struct cxl_kv_ranges), &q) == -ENOTTY, "-");
	/* the whole number must match: direction, type, and no gap in the nrs */
	T("wrong_dir", kv_ioctl(fd, _IOW(CXL_KV_IOC_TYPE, 0x27, struct cxl_kv_residency), &res) == -ENOTTY, "-");
	T("wrong_type", kv_ioctl(fd, _IOWR('x', 0x27, struct cxl_kv_residency), &res) == -ENOTTY, "-");
	T("gap_nr", kv_ioctl(fd, _IOWR(CXL_KV_IOC_TYPE, 0x2c, struct cxl_kv_stats), &st) == -ENOTTY, "-");
	T("ctl_gap_nr_on_space_fd", kv_ioctl(fd, _IOWR(CXL_KV_IOC_TYPE, 0x07, struct cxl_kv_stats), &st) == -ENOTTY, "-");

	/* mmap misuse */
	m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	T("mmap_private_refused", m == MAP_FAILED && errno == EINVAL, "-");
	m = mmap(NULL, KV_PAGE, PROT_READ, MAP_SHARED, fd, c.mmap_bytes);
	T("mmap_offset_past_end", m == MAP_FAILED && errno == EINVAL, "-");
	/* KV data is never code (the old module mapped it PROT_EXEC). */
	m = mmap(NULL, KV_PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	T("mmap_exec_refused", m == MAP_FAILED && errno == EPERM, "-");
	if (m != MAP_FAILED)
		munmap(m, KV_PAGE);
	m = mmap(NULL, KV_PAGE, PROT_READ, MAP_SHARED, fd, 0);
	T("mprotect_exec_refused", m != MAP_FAILED &&
	  mprotect(m, KV_PAGE, PROT_READ | PROT_EXEC) == -1 && errno == EACCES, "-");
	if (m != MAP_FAILED)
		munmap(m, KV_PAGE);
	m = mmap(NULL, c.mmap_bytes + 2 * KV_PAGE, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	T("mmap_shared", m != MAP_FAILED, "-");
	if (m != MAP_FAILED) {
		m[0] = 1;
		T("access_in_range", kv_probe(m + c.mmap_bytes - 1) == 0 && m[0] == 1, "-");
		T("access_past_end_sigbus", kv_probe(m + c.mmap_bytes) == SIGBUS, "-");
		T("mremap_grow_refused", mremap(m, c.mmap_bytes + 2 * KV_PAGE,
						c.mmap_bytes + 8 * KV_PAGE, 0) == MAP_FAILED, "-");
		munmap(m, c.mmap_bytes + 2 * KV_PAGE);
	} else {
		for (int i = 0; i < 3; i++)
			ktap_result(0, "mmap_dependent");
	}

	/* detach refused while the space lives, also while only mapped */
	{
		struct cxl_kv_detach d = { 0 };

		m = mmap(NULL, KV_PAGE, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		T("detach_busy_while_mapped", kv_ioctl(ctl, CXL_KV_DETACH, &d) == -EBUSY, "-");
		if (m != MAP_FAILED)
			munmap(m, KV_PAGE);
	}
}

int main(void)
{
	struct cxl_kv_features f = { 0 };
	struct cxl_kv_attach a;
	struct cxl_kv_detach d = { 0 };
	struct cxl_kv_stats st0 = { 0 };
	struct cxl_kv_info info;
	struct cxl_kv_space_create c;
	int ctl, ret, node;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE (module not loaded by the rig?)");
	node = kv_warm_node();
	ktap_plan(103);
	kv_detach_quiet(ctl);

	ret = kv_ioctl(ctl, CXL_KV_GET_FEATURES, &f);
	T("get_features", !ret && f.version == CXL_KV_VERSION && f.page_size == 4096 &&
	  (f.features & CXL_KV_F_URING_CMD), "ret %d", ret);
	f.reserved[2] = 1;
	T("get_features_reserved", kv_ioctl(ctl, CXL_KV_GET_FEATURES, &f) == -EINVAL, "-");
	T("info_detached", kv_info(ctl, &info) == 0 && !info.attached, "-");
	kv_geom(&c, 1, 1, 128, 16);
	T("space_without_tiers", kv_space(ctl, &c) == -ENODEV, "-");
	T("detach_without_tiers", kv_ioctl(ctl, CXL_KV_DETACH, &d) == -ENODEV, "-");

	/* non-admin */
	kv_attach_req(&a, 1024, 1, 64 << 20);
	T("attach_nonadmin_eperm", as_nobody(CXL_KV_ATTACH, &a) == -EPERM, "-");
	T("detach_nonadmin_eperm", as_nobody(CXL_KV_DETACH, &d) == -EPERM, "-");
	T("info_nonadmin_ok", as_nobody(CXL_KV_INFO, &info) == 0, "-");
	/* the privilege check comes before the struct's own checks */
	a.reserved[0] = 1;
	T("attach_nonadmin_reserved_eperm", as_nobody(CXL_KV_ATTACH, &a) == -EPERM, "-");
	a.reserved[0] = 0;
	d.flags = 1;
	T("detach_nonadmin_flags_eperm", as_nobody(CXL_KV_DETACH, &d) == -EPERM, "-");
	d.flags = 0;
	T("ctl_gap_nr", kv_ioctl(ctl, _IOWR(CXL_KV_IOC_TYPE, 0x07, struct cxl_kv_stats), &st0) == -ENOTTY, "-");
	T("ctl_unknown_nr", kv_ioctl(ctl, _IOWR(CXL_KV_IOC_TYPE, 0x1f, struct cxl_kv_stats), &st0) == -ENOTTY, "-");
	T("ctl_wrong_dir", kv_ioctl(ctl, _IOR(CXL_KV_IOC_TYPE, 0x05, struct cxl_kv_stats), &st0) == -ENOTTY, "-");

	/* bad attach inputs */
	kv_attach_req(&a, 1024, 1, 64 << 20);
	a.nodes[0] = 0;
	T("attach_node_with_cpus", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -EINVAL &&
	  dmesg_has("has CPUs"), "-");
	a.nodes[0] = 63;
	ret = kv_ioctl(ctl, CXL_KV_ATTACH, &a);
	T("attach_node_offline", ret == -ENODEV, "ret %d", ret);
	a.nodes[0] = node;
	a.nr_nodes = 0;
	T("attach_no_nodes", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -EINVAL, "-");
	a.nr_nodes = 9;
	T("attach_too_many_nodes", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -EINVAL, "-");
	a.nr_nodes = 2;
	a.nodes[1] = node;
	T("attach_duplicate_node", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -EINVAL, "-");
	a.nr_nodes = 1;
	a.nodes[1] = 0;
	a.budget_pages = 10;
	T("attach_budget_small", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -ERANGE, "-");
	a.budget_pages = 1ULL << 40;
	T("attach_budget_large", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -ERANGE, "-");
	a.budget_pages = 1024;
	a.high_wmark = 2000;
	T("attach_high_over_budget", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -ERANGE, "-");
	a.high_wmark = 500;
	a.low_wmark = 600;
	T("attach_low_over_high", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -ERANGE, "-");
	a.high_wmark = a.low_wmark = 0;
	a.nr_cold = 0;
	T("attach_no_cold", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -EINVAL, "-");
	a.nr_cold = 1;
	a.cold[0].path = (uintptr_t)"/dev/does-not-exist";
	T("attach_missing_device", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -ENOENT, "-");
	a.cold[0].path = (uintptr_t)"/dev/null";
	ret = kv_ioctl(ctl, CXL_KV_ATTACH, &a);
	T("attach_not_blockdev", ret == -ENOTBLK, "ret %d", ret);
	a.cold[0].path = (uintptr_t)kv_nvme();
	a.cold[0].max_bytes = 4096;
	T("attach_cold_too_small", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -ENOSPC, "-");
	a.cold[0].max_bytes = 64 << 20;
	a.cold[0].flags = 2;
	T("attach_cold_flags", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -EINVAL, "-");
	a.cold[0].flags = 0;
	a.nr_cold = 2;
	a.cold[1] = a.cold[0];
	T("attach_cold_twice", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -EBUSY, "-");
	a.nr_cold = 1;
	memset(&a.cold[1], 0, sizeof(a.cold[1]));
	a.reserved[0] = 1;
	T("attach_reserved", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -EINVAL, "-");
	a.reserved[0] = 0;
	a.flags = 1;
	T("attach_flags", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -EINVAL, "-");
	a.flags = 0;
	{
		int busy = open(kv_nvme(), O_RDWR | O_EXCL);

		ret = kv_ioctl(ctl, CXL_KV_ATTACH, &a);
		T("attach_busy_device", busy >= 0 && ret == -EBUSY, "busy %d ret %d", busy, ret);
		if (busy >= 0)
			close(busy);
	}
	T("attach_wrong_size", kv_ioctl(ctl, _IOWR(CXL_KV_IOC_TYPE, 0x02, struct cxl_kv_info), &a) == -ENOTTY, "-");

	/* good attach by fd */
	{
		int bfd = open(kv_nvme(), O_RDWR);

		a.cold[0].path = 0;
		a.cold[0].fd = bfd;
		a.cold[0].flags = CXL_KV_COLD_F_FD;
		ret = kv_ioctl(ctl, CXL_KV_ATTACH, &a);
		T("attach_by_fd", ret == 0, "ret %d", ret);
		if (bfd >= 0)
			close(bfd);
		T("attach_twice_ebusy", kv_ioctl(ctl, CXL_KV_ATTACH, &a) == -EBUSY, "-");
		T("device_held_exclusively", open(kv_nvme(), O_RDWR | O_EXCL) < 0 &&
		  errno == EBUSY, "-");
		T("detach_ok", kv_ioctl(ctl, CXL_KV_DETACH, &d) == 0, "-");
	}

	ret = kv_attach(ctl, 1024, 2, 64 << 20);
	T("attach_two_cold", ret == 0, "ret %d", ret);
	ret = kv_info(ctl, &info);
	T("info_attached", !ret && info.attached && info.nr_nodes == 1 &&
	  info.nodes[0] == (uint32_t)node && info.nr_cold == 2 &&
	  info.budget_pages == 1024 && info.high_wmark == 972 &&
	  info.low_wmark == 921 && info.cold_slots == 2 * 16384 &&
	  info.features == f.features, "slots %llu", (unsigned long long)info.cold_slots);

	/* bad geometry */
	kv_geom(&c, 0, 1, 128, 16);
	T("geom_zero_layers", kv_space(ctl, &c) == -EINVAL, "-");
	kv_geom(&c, 1, 65, 128, 16);
	T("geom_too_many_heads", kv_space(ctl, &c) == -EINVAL, "-");
	kv_geom(&c, 1, 1, 96, 16);
	T("geom_head_dim_not_pow2", kv_space(ctl, &c) == -EINVAL, "-");
	kv_geom(&c, 1, 1, 128, 16);
	c.dtype_bytes = 3;
	T("geom_dtype", kv_space(ctl, &c) == -EINVAL, "-");
	kv_geom(&c, 1, 1, 128, 0);
	T("geom_zero_tokens", kv_space(ctl, &c) == -EINVAL, "-");
	kv_geom(&c, 64, 64, 128, 1 << 20);
	T("geom_too_big", kv_space(ctl, &c) == -E2BIG, "-");
	kv_geom(&c, 1, 1, 128, 16);
	c.flags = 2;
	T("geom_unknown_flag", kv_space(ctl, &c) == -EINVAL, "-");
	kv_geom(&c, 1, 1, 128, 16);
	c.reserved[1] = 1;	/* reserved[0] is the cold format (kv_compress) */
	T("geom_reserved", kv_space(ctl, &c) == -EINVAL, "-");
	kv_geom(&c, 1, 1, 128, 16);
	T("space_nonadmin_ok", as_nobody(CXL_KV_SPACE_CREATE, &c) == 0, "-");

	space_cmd_inputs(ctl);

	T("detach_after_close", kv_ioctl(ctl, CXL_KV_DETACH, &d) == 0, "-");
	T("dmesg_said_why", dmesg_has("cxl_kv: attach rejected") &&
	  dmesg_has("private mapping refused"), "-");
	{
		struct cxl_kv_stats st;

		T("global_stats", kv_stats(ctl, CXL_KV_GLOBAL_STATS, &st) == 0 &&
		  st.warm_pages == 0 && st.faults_zero >= 1, "warm %llu",
		  (unsigned long long)st.warm_pages);
	}
	{
		char line[512];

		T("sysfs_stats_columns", !read_line("/sys/class/misc/cxl_kv/stats", line, sizeof(line)) &&
		  ({ int n = 0; for (char *s = strtok(line, " "); s; s = strtok(NULL, " ")) n++; n == 18; }), "-");
		T("sysfs_tiers", !read_line("/sys/class/misc/cxl_kv/tiers", line, sizeof(line)) &&
		  line[0] == '0', "%s", line);
	}
	close(ctl);
	return ktap_finish();
}
