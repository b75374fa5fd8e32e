/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kv_test.h - helpers for the cxl_kv module's guest tests: the control
 * device, attach from the rig's environment, spaces, raw io_uring uring_cmd,
 * SIGBUS probes, leak counters.  Tests talk to the UAPI directly (not
 * through libcxl_kv) so that they test the kernel alone.
 */
#ifndef CXL_KV_KV_TEST_H
#define CXL_KV_KV_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <liburing.h>
#include <linux/cxl_kv.h>

#include "ktap.h"
#include "guest_util.h"

#define KV_PAGE 4096UL

/* ioctl returning 0 or -errno. */
static inline int kv_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static inline int kv_open_ctl(void)
{
	return open("/dev/cxl_kv", O_RDWR | O_CLOEXEC);
}

static inline int kv_warm_node(void)
{
	return guest_env_int("CXLKV_WARM_NODE");
}

static inline const char *kv_nvme(void)
{
	return guest_env("CXLKV_NVME", "/dev/nvme0n1");
}

static inline const char *kv_nvme2(void)
{
	return guest_env("CXLKV_NVME2", "/dev/nvme1n1");
}

static inline int kv_is_cxl(void)
{
	return !strcmp(guest_env("CXLKV_TOPO", "nvdimm"), "cxl");
}

/* A valid attach request: the rig's warm node, one or two NVMe. */
static inline void kv_attach_req(struct cxl_kv_attach *a, uint64_t budget,
				 int nr_cold, uint64_t cold_bytes)
{
	memset(a, 0, sizeof(*a));
	a->nr_nodes = 1;
	a->nodes[0] = kv_warm_node();
	a->budget_pages = budget;
	a->nr_cold = nr_cold;
	a->cold[0].path = (uintptr_t)kv_nvme();
	a->cold[0].max_bytes = cold_bytes;
	if (nr_cold > 1) {
		a->cold[1].path = (uintptr_t)kv_nvme2();
		a->cold[1].max_bytes = cold_bytes;
	}
}

/* Detach whatever is attached (ignore errors). */
static inline void kv_detach_quiet(int ctl)
{
	struct cxl_kv_detach d = { 0 };

	ioctl(ctl, CXL_KV_DETACH, &d);
}

static inline int kv_attach(int ctl, uint64_t budget, int nr_cold,
			    uint64_t cold_bytes)
{
	struct cxl_kv_attach a;

	kv_attach_req(&a, budget, nr_cold, cold_bytes);
	return kv_ioctl(ctl, CXL_KV_ATTACH, &a);
}

/* Attach the rig's warm node with one cold device, @path (e.g. a dm device). */
static inline int kv_attach_path(int ctl, uint64_t budget, const char *path)
{
	struct cxl_kv_attach a;

	kv_attach_req(&a, budget, 1, 0);
	a.cold[0].path = (uintptr_t)path;
	return kv_ioctl(ctl, CXL_KV_ATTACH, &a);
}

static inline void kv_geom(struct cxl_kv_space_create *c, uint32_t layers,
			   uint32_t heads, uint32_t head_dim, uint64_t tokens)
{
	memset(c, 0, sizeof(*c));
	c->layers = layers;
	c->kv_heads = heads;
	c->head_dim = head_dim;
	c->dtype_bytes = 2;
	c->max_tokens = tokens;
	c->flags = CXL_KV_SPACE_F_CLOEXEC;
}

/* Create a space; returns its fd or -errno; fills @c. */
static inline int kv_space(int ctl, struct cxl_kv_space_create *c)
{
	int ret = kv_ioctl(ctl, CXL_KV_SPACE_CREATE, c);

	return ret ? ret : (int)c->fd;
}

static inline int kv_stats(int fd, unsigned long cmd, struct cxl_kv_stats *s)
{
	memset(s, 0, sizeof(*s));
	return kv_ioctl(fd, cmd, s);
}

static inline int kv_info(int ctl, struct cxl_kv_info *i)
{
	memset(i, 0, sizeof(*i));
	return kv_ioctl(ctl, CXL_KV_INFO, i);
}

static inline int kv_ranges(int fd, unsigned long cmd, uint16_t layer,
			    uint16_t head, uint32_t first, uint32_t n,
			    uint64_t *done)
{
	struct cxl_kv_range r = { .layer = layer, .head = head,
				  .first_block = first, .nr_blocks = n };
	struct cxl_kv_ranges q = { .ranges = (uintptr_t)&r, .count = 1 };
	int ret = kv_ioctl(fd, cmd, &q);

	if (done)
		*done = q.done;
	return ret;
}

/* Residency of a block range: returns nr of "no cold page" bits set. */
static inline int kv_resident(int fd, uint16_t layer, uint16_t head,
			      uint32_t first, uint32_t n,
			      struct cxl_kv_residency *out, uint64_t *bm)
{
	struct cxl_kv_residency q = { .layer = layer, .head = head,
				      .first_block = first, .nr_blocks = n,
				      .bitmap = (uintptr_t)bm };
	int ret = kv_ioctl(fd, CXL_KV_RESIDENCY, &q), set = 0;

	if (out)
		*out = q;
	if (ret)
		return ret;
	for (uint32_t i = 0; i < n; i++)
		set += !!(bm[i / 64] & (1ULL << (i % 64)));
	return set;
}

/* Deterministic page pattern: every 8 bytes = f(seed, page, word). */
static inline uint64_t kv_pat(uint64_t seed, uint64_t pg, uint64_t w)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL ^ (pg << 20) ^ w;

	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ULL;
	return x ^ (x >> 29);
}

/* Write the pattern to every @stride-th word of page @pg (1: every word). */
static inline void kv_fill_stride(volatile uint64_t *p, uint64_t seed,
				  uint64_t pg, uint64_t stride)
{
	for (uint64_t w = 0; w < KV_PAGE / 8; w += stride)
		p[w] = kv_pat(seed, pg, w);
}

/* 0 if every @stride-th word of page @pg holds the pattern, else the first
 * bad word + 1. */
static inline uint64_t kv_check_stride(const volatile uint64_t *p,
				       uint64_t seed, uint64_t pg,
				       uint64_t stride)
{
	for (uint64_t w = 0; w < KV_PAGE / 8; w += stride)
		if (p[w] != kv_pat(seed, pg, w))
			return w + 1;
	return 0;
}

/* Sampled (one word in eight): fast enough for the big integrity fills. */
static inline void kv_fill(volatile uint64_t *p, uint64_t seed, uint64_t pg)
{
	kv_fill_stride(p, seed, pg, 8);
}

static inline uint64_t kv_check(const volatile uint64_t *p, uint64_t seed,
				uint64_t pg)
{
	return kv_check_stride(p, seed, pg, 8);
}

/* ---- SIGBUS probe ---------------------------------------------------- */

static sigjmp_buf kv_jmp;
static volatile sig_atomic_t kv_sig;

static void kv_sig_handler(int sig)
{
	kv_sig = sig;
	siglongjmp(kv_jmp, 1);
}

/* Touch @p (read, or write a word); returns the signal it raised or 0. */
static inline int kv_probe_rw(volatile char *p, int write)
{
	struct sigaction sa = { .sa_handler = kv_sig_handler }, obus, osegv;

	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	kv_sig = 0;
	if (!sigsetjmp(kv_jmp, 1)) {
		if (write)
			*(volatile uint64_t *)p = 0xdeadbeefULL;
		else
			(void)*p;
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return kv_sig;
}

static inline int kv_probe(volatile char *p)
{
	return kv_probe_rw(p, 0);
}

static inline int kv_probe_write(volatile uint64_t *p)
{
	return kv_probe_rw((volatile char *)p, 1);
}

/* ---- io_uring uring_cmd ---------------------------------------------- */

/* Submit one uring_cmd for @cmd on @fd with @arg; returns cqe->res. */
static inline void kv_prep_cmd(struct io_uring_sqe *sqe, int fd,
			       unsigned long cmd, void *arg, size_t len,
			       uint64_t user_data)
{
	struct cxl_kv_uring_cmd *uc;

	if (!sqe)
		return;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = (uint32_t)cmd;
	sqe->user_data = user_data;
	uc = (struct cxl_kv_uring_cmd *)sqe->cmd;
	uc->addr = (uintptr_t)arg;
	uc->len = (uint32_t)len;
	uc->flags = 0;
}

/*
 * Submit one uring_cmd and wait for it; @hdr_flags goes into
 * cxl_kv_uring_cmd.flags (0: valid).  Returns cqe->res or a liburing error.
 */
static inline int kv_uring_one_flags(struct io_uring *ring, int fd,
				     unsigned long cmd, void *arg, size_t len,
				     uint32_t hdr_flags)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	kv_prep_cmd(sqe, fd, cmd, arg, len, 1);
	((struct cxl_kv_uring_cmd *)sqe->cmd)->flags = hdr_flags;
	ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

static inline int kv_uring_one(struct io_uring *ring, int fd,
			       unsigned long cmd, void *arg, size_t len)
{
	return kv_uring_one_flags(ring, fd, cmd, arg, len, 0);
}

/* ---- leak counters ---------------------------------------------------- */

/* Integer field @key from a meminfo-style file, in kB, or -1. */
static inline long kv_meminfo(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *k = strstr(line, key);

		if (k && k[strlen(key)] == ':') {
			v = atol(k + strlen(key) + 1);
			break;
		}
	}
	fclose(f);
	return v;
}

static inline long kv_node_used_kb(int node)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 node);
	return kv_meminfo(path, "MemUsed");
}

/* Pages of @node sitting in per-cpu free lists (not in MemFree), in kB. */
static inline long kv_node_pcp_kb(int node)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[256];
	long sum = 0, v;
	int in = 0, n;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d,", &n) == 1) {
			in = n == node;
			continue;
		}
		if (in && sscanf(line, " count: %ld", &v) == 1)
			sum += v;
	}
	fclose(f);
	return sum * 4;
}

/* Memory of @node in use, not counting per-cpu free lists, in kB. */
static inline long kv_node_busy_kb(int node)
{
	return kv_node_used_kb(node) - kv_node_pcp_kb(node);
}

static inline double kv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Common preamble: skip unless the module and the rig's tiers are there. */
static inline int kv_preamble(int *ctl)
{
	if (access("/dev/cxl_kv", F_OK))
		return -1;
	if (kv_warm_node() < 0)
		return -2;
	*ctl = kv_open_ctl();
	return *ctl < 0 ? -3 : 0;
}

#endif /* CXL_KV_KV_TEST_H */
