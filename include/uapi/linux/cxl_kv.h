/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cxl_kv.h - user ABI of the cxl_kv module: an LLM KV cache tiered between
 * CXL memory (warm tier: CPU-less NUMA nodes) and NVMe (cold tier), placed
 * by attention scores.
 *
 * Two kinds of file carry the ABI:
 *
 *  - /dev/cxl_kv, the control device: GET_FEATURES, INFO, ATTACH, DETACH,
 *    SPACE_CREATE, GLOBAL_STATS, LIST.  ATTACH and DETACH (the only commands
 *    that change the tier set and its limits) need CAP_SYS_ADMIN; the others
 *    need only an fd of the device (mode 0660, group cxl-kv by the udev
 *    rule).
 *  - a space fd (anon inode) returned by SPACE_CREATE: mmap of the KV and the
 *    per-space commands HINTS, ACCESS, PREFETCH, PROMOTE, DEMOTE, PIN, UNPIN,
 *    RESIDENCY, PARAMS_GET, PARAMS_SET, SPACE_STATS, SPACE_INFO.
 *
 * Every command is _IOWR(CXL_KV_IOC_TYPE, nr, struct); the size encoded in
 * the number is the size of the struct and is checked.  Every field named
 * reserved or pad must be zero on input (else -EINVAL) and is zeroed on
 * output.  Unknown flag bits are rejected with -EINVAL.
 *
 * io_uring: a space fd and the control device accept IORING_OP_URING_CMD with
 * sqe->cmd_op set to the same ioctl number and struct cxl_kv_uring_cmd in
 * sqe->cmd (16 bytes, so plain 64-byte SQEs work; IORING_SETUP_SQE128 is
 * accepted too).  The command struct itself stays in user memory at
 * cxl_kv_uring_cmd.addr; the kernel reads it at submission and writes its
 * output fields back before the completion is posted.  cqe->res is 0 or a
 * negative errno, exactly what the ioctl would have returned.  PREFETCH
 * completes when every block it started to promote is resident (or failed).
 *
 * Memory layout of a space (mmap offset 0, length cxl_kv_space_create.mmap_bytes):
 * head-major.  For layer l, kv head h and kind k (0 = K, 1 = V):
 *
 *	stream  s = (l * kv_heads + h) * 2 + k
 *	offset    = s * stream_bytes + token * token_bytes
 *
 * where token_bytes = head_dim * dtype_bytes and stream_bytes =
 * round_up(max_tokens * token_bytes, page size).  Each (layer, head, K|V)
 * stream is contiguous and page aligned.  A tracking *block* b of (l, h) is
 * page b of the K stream plus page b of the V stream: tokens
 * [b * tokens_per_block, (b + 1) * tokens_per_block) with tokens_per_block =
 * page size / token_bytes.  Every per-block command names blocks this way.
 */
#ifndef _UAPI_LINUX_CXL_KV_H
#define _UAPI_LINUX_CXL_KV_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * ioctl type 0xC4: free in Documentation/userspace-api/ioctl/ioctl-number.rst
 * and not used as an ioctl type by any 6.12 UAPI header; it sits next to the
 * CXL blocks 0xCA/0xCE.  Numbers 0x00-0x1f: control device; 0x20-0x3f: space fd.
 */
#define CXL_KV_IOC_TYPE		0xC4

/* ABI version reported by GET_FEATURES; bumped only for incompatible changes. */
#define CXL_KV_VERSION		1

/* Name of the control device: /dev/cxl_kv. */
#define CXL_KV_DEVICE_NAME	"cxl_kv"

/* Limits (also reported by INFO where they vary). */
#define CXL_KV_MAX_NODES	8	/* warm nodes in one ATTACH */
#define CXL_KV_MAX_COLD		4	/* cold block devices in one ATTACH */
#define CXL_KV_MAX_LAYERS	1024
#define CXL_KV_MAX_KV_HEADS	64	/* head_mask in PREFETCH is 64 bits */
/*
 * 64 GiB of KV per space with 4 KiB pages: Llama-70B (80 layers x 8 KV heads x
 * 128 dims, fp16) at 128K tokens is 40 GiB (10 Mi pages).
 */
#define CXL_KV_MAX_SPACE_PAGES	(1ULL << 24)
#define CXL_KV_STATS_HIST	16	/* buckets in the latency histogram */

/*
 * Bounds of the work one space command does (each call does at most this
 * much; beyond it the command fails with the errno given, before it changes
 * anything).  A space has at most CXL_KV_MAX_SPACE_PAGES / 2 blocks, so one
 * command can always name every block of a space once.
 */
#define CXL_KV_MAX_HINTS	65536	/* HINTS count (-EINVAL beyond) */
#define CXL_KV_MAX_RANGES	4096	/* ranges in one ranges command (-EINVAL) */
/*
 * ACCESS, PROMOTE, DEMOTE, PIN, UNPIN: the sum of nr_blocks over all ranges
 * (-E2BIG beyond).  RESIDENCY covers at most blocks_per_stream blocks, which
 * is below this too.
 */
#define CXL_KV_MAX_CMD_BLOCKS	(1U << 23)
/* PREFETCH: pages of the window over the selected heads (-E2BIG beyond). */
#define CXL_KV_MAX_PREFETCH_PAGES (1U << 20)
#define CXL_KV_MAX_PINS		255	/* pins of one block (-EOVERFLOW beyond) */
/* A HINTS score above this (1.0) is ignored (not counted in done). */
#define CXL_KV_HINT_SCORE_MAX	0x10000

/* ---------------------------------------------------------------------- */
/* Feature bits (GET_FEATURES.features)                                   */
/* ---------------------------------------------------------------------- */

/*
 * CXL_KV_F_URING_CMD: the space fd and the control device implement
 * IORING_OP_URING_CMD for every ioctl number, with struct cxl_kv_uring_cmd in
 * sqe->cmd.  Reported only when the running kernel has CONFIG_IO_URING.
 */
#define CXL_KV_F_URING_CMD	(1ULL << 0)

/*
 * CXL_KV_F_MULTI_NODE: ATTACH accepts up to CXL_KV_MAX_NODES warm nodes; the
 * streams of a space are striped over them by (layer, head) so a decode step
 * draws on the bandwidth of every node.
 */
#define CXL_KV_F_MULTI_NODE	(1ULL << 1)

/*
 * CXL_KV_F_MULTI_COLD: ATTACH accepts up to CXL_KV_MAX_COLD cold block
 * devices; cold slots are allocated round-robin across them.
 */
#define CXL_KV_F_MULTI_COLD	(1ULL << 2)

/*
 * CXL_KV_F_COLD_FD: a cold device may be given as an open file descriptor of
 * a block device (CXL_KV_COLD_F_FD) instead of a path.  The module still
 * opens the device exclusively itself.
 */
#define CXL_KV_F_COLD_FD	(1ULL << 3)

/*
 * CXL_KV_F_CLEAN_DROP: write tracking.  A warm page whose cold copy is still
 * valid (not written since it was last read from or written to the cold
 * tier) is demoted without I/O.
 */
#define CXL_KV_F_CLEAN_DROP	(1ULL << 4)

/*
 * CXL_KV_F_PREFETCH_WAIT: PREFETCH accepts CXL_KV_PREFETCH_F_WAIT (the ioctl
 * returns when the window is resident).  Through uring_cmd a prefetch always
 * completes when its window is resident.
 */
#define CXL_KV_F_PREFETCH_WAIT	(1ULL << 5)

/*
 * CXL_KV_F_COLD_FORMAT: SPACE_CREATE takes a cold format in reserved[0]
 * (CXL_KV_SPACE_COLD_FORMAT(), CXL_KV_FMT_*): what the space's pages become
 * on the cold tier, packed into slots by their encoded size.
 */
#define CXL_KV_F_COLD_FORMAT	(1ULL << 6)

/*
 * CXL_KV_F_LIST: the control device implements LIST (struct cxl_kv_list):
 * the caller's own spaces with their geometry and counters, no ptrace
 * access to their owners needed.
 */
#define CXL_KV_F_LIST		(1ULL << 8)

/*
 * CXL_KV_F_SHARE: SPACE_CREATE accepts CXL_KV_SPACE_F_SHARE: a child space
 * whose first blocks are a parent space's, one copy read-only in both.
 */
#define CXL_KV_F_SHARE		(1ULL << 7)

/* Every feature this header defines. */
#define CXL_KV_F_ALL	(CXL_KV_F_URING_CMD | CXL_KV_F_MULTI_NODE |	\
			 CXL_KV_F_MULTI_COLD | CXL_KV_F_COLD_FD |	\
			 CXL_KV_F_CLEAN_DROP | CXL_KV_F_PREFETCH_WAIT |	\
			 CXL_KV_F_COLD_FORMAT | CXL_KV_F_LIST |	\
			 CXL_KV_F_LAYER_PIPELINE | CXL_KV_F_SHARE)

/* ---------------------------------------------------------------------- */
/* io_uring                                                               */
/* ---------------------------------------------------------------------- */

/**
 * struct cxl_kv_uring_cmd - payload of IORING_OP_URING_CMD, in sqe->cmd
 * @addr: in: user address of the command struct (the one the ioctl of the
 *	same number takes).
 * @len: in: its size; must equal _IOC_SIZE(sqe->cmd_op).
 * @flags: in: must be zero.
 */
struct cxl_kv_uring_cmd {
	__u64 addr;
	__u32 len;
	__u32 flags;
};

/* ---------------------------------------------------------------------- */
/* Control device commands                                                */
/* ---------------------------------------------------------------------- */

/**
 * struct cxl_kv_features - GET_FEATURES
 * @version: out: CXL_KV_VERSION of the running module.
 * @page_size: out: page size in bytes (the unit of every "pages" field and of
 *	the mmap layout).
 * @features: out: CXL_KV_F_* bits the module implements.
 * @reserved: must be zero.
 */
struct cxl_kv_features {
	__u32 version;
	__u32 page_size;
	__u64 features;
	__u64 reserved[6];
};

/**
 * struct cxl_kv_cold_dev - one cold-tier block device in ATTACH
 * @path: in: user address of a NUL-terminated block device path (at most
 *	255 bytes), used when CXL_KV_COLD_F_FD is clear.
 * @fd: in: an open fd of a block device, used when CXL_KV_COLD_F_FD is set.
 * @flags: in: CXL_KV_COLD_F_*.
 * @max_bytes: in: use at most this many bytes from the start of the device;
 *	0 = the whole device.  Rounded down to the page size; at least 1 MiB.
 * @reserved: must be zero.
 */
struct cxl_kv_cold_dev {
	__u64 path;
	__u32 fd;
	__u32 flags;
	__u64 max_bytes;
	__u64 reserved;
};

/* The cold device is given by cxl_kv_cold_dev.fd, not by a path. */
#define CXL_KV_COLD_F_FD	(1U << 0)
#define CXL_KV_COLD_F_ALL	(CXL_KV_COLD_F_FD)

/**
 * struct cxl_kv_attach - ATTACH: bring up the tier set (CAP_SYS_ADMIN)
 * @nr_nodes: in: number of valid entries in @nodes, 1..CXL_KV_MAX_NODES.
 * @nr_cold: in: number of valid entries in @cold, 1..CXL_KV_MAX_COLD.
 * @nodes: in: warm NUMA node ids.  Each must be online, have memory and have
 *	no CPUs; no duplicates.  Unused entries must be zero.
 * @budget_pages: in: pages the module may hold on the warm nodes in total.
 *	At least 256; at most the nodes' present pages.
 * @high_wmark: in: warm pages above which the demotion worker starts;
 *	0 = 95% of @budget_pages.  Must be <= @budget_pages.
 * @low_wmark: in: warm pages the worker demotes down to; 0 = 90% of
 *	@budget_pages.  Must be < @high_wmark.
 * @flags: in: must be zero (no flags defined).
 * @cold: in: the cold block devices, opened exclusively until DETACH.
 * @user_spaces: in: most spaces one uid may hold at once (SPACE_CREATE
 *	fails with -EDQUOT beyond); 0 = CXL_KV_DEF_USER_SPACES.
 * @max_spaces: in: most spaces in total (-ENFILE beyond); 0 =
 *	CXL_KV_DEF_MAX_SPACES.
 * @user_warm_pages: in: most warm pages the spaces of one uid hold; at it,
 *	that uid's allocations wait while the demotion worker demotes that
 *	uid's own pages.  0 = 50% of @budget_pages.  At most @budget_pages.
 * @user_cold_slots: in: most cold slots the spaces of one uid hold (its
 *	demotions fail with -EDQUOT beyond); 0 = 50% of the cold slots.  At
 *	most the cold slots.
 * @reserved: must be zero.
 *
 * Only one tier set exists at a time: a second ATTACH fails with -EBUSY.
 * The per-uid limits apply to every uid but 0 (root); the module-wide ones
 * (@max_spaces, the budget, the cold slots) to all.
 */
struct cxl_kv_attach {
	__u32 nr_nodes;
	__u32 nr_cold;
	__u32 nodes[CXL_KV_MAX_NODES];
	__u64 budget_pages;
	__u64 high_wmark;
	__u64 low_wmark;
	__u64 flags;
	struct cxl_kv_cold_dev cold[CXL_KV_MAX_COLD];
	__u32 user_spaces;
	__u32 max_spaces;
	__u64 user_warm_pages;
	__u64 user_cold_slots;
	__u64 reserved[1];
};

/* Defaults of the space limits of ATTACH. */
#define CXL_KV_DEF_USER_SPACES	64
#define CXL_KV_DEF_MAX_SPACES	1024

/**
 * struct cxl_kv_detach - DETACH: release the tier set (CAP_SYS_ADMIN)
 * @flags: in: must be zero.
 * @reserved: must be zero.
 *
 * Fails with -EBUSY while any space exists, -ENODEV when nothing is attached.
 */
struct cxl_kv_detach {
	__u64 flags;
	__u64 reserved[3];
};

/**
 * struct cxl_kv_info - INFO: the tier set and its budgets
 * @attached: out: 1 if a tier set is attached, else 0 (all other out fields 0).
 * @nr_nodes: out: warm nodes in use.
 * @nodes: out: their ids.
 * @nr_cold: out: cold devices in use.
 * @nr_spaces: out: live spaces.
 * @budget_pages: out: warm budget.
 * @high_wmark: out: high watermark (pages).
 * @low_wmark: out: low watermark (pages).
 * @warm_pages: out: warm pages held now.
 * @cold_slots: out: cold slots (pages) in total over every cold device.
 * @cold_used: out: cold slots in use.
 * @cold_devs: out: dev_t (new encoding, as st_rdev) of each cold device.
 * @features: out: same as GET_FEATURES.features.
 * @user_spaces: out: the per-uid space limit in force (see ATTACH).
 * @max_spaces: out: the module-wide space limit in force.
 * @user_warm_pages: out: the per-uid warm page limit in force.
 * @user_cold_slots: out: the per-uid cold slot limit in force.
 * @reserved: must be zero.
 */
struct cxl_kv_info {
	__u32 attached;
	__u32 nr_nodes;
	__u32 nodes[CXL_KV_MAX_NODES];
	__u32 nr_cold;
	__u32 nr_spaces;
	__u64 budget_pages;
	__u64 high_wmark;
	__u64 low_wmark;
	__u64 warm_pages;
	__u64 cold_slots;
	__u64 cold_used;
	__u64 cold_devs[CXL_KV_MAX_COLD];
	__u64 features;
	__u32 user_spaces;
	__u32 max_spaces;
	__u64 user_warm_pages;
	__u64 user_cold_slots;
	__u64 reserved[1];
};

/**
 * struct cxl_kv_space_create - SPACE_CREATE: make a KV space, get its fd
 * @layers: in: transformer layers, 1..CXL_KV_MAX_LAYERS.
 * @kv_heads: in: KV heads per layer, 1..CXL_KV_MAX_KV_HEADS.
 * @head_dim: in: elements per head vector, >= 1.
 * @dtype_bytes: in: bytes per element: 1, 2 or 4.
 * @max_tokens: in: tokens per stream, >= 1.  head_dim * dtype_bytes must be a
 *	power of two no larger than the page size (else -EINVAL), and the whole
 *	space at most CXL_KV_MAX_SPACE_PAGES pages (else -E2BIG, however large
 *	@max_tokens is).
 * @flags: in: CXL_KV_SPACE_F_*.
 * @fd: out: the new space fd.
 * @tokens_per_block: out: tokens in one block (page size / token_bytes).
 * @token_bytes: out: head_dim * dtype_bytes.
 * @blocks_per_stream: out: pages in each stream = blocks per (layer, head).
 * @stream_bytes: out: bytes of one (layer, head, K|V) stream (page aligned).
 * @mmap_bytes: out: length to mmap (2 * layers * kv_heads * stream_bytes).
 * @reserved: must be zero, except reserved[0]: the cold format
 *	(CXL_KV_SPACE_COLD_FORMAT(), CXL_KV_FMT_*, CXL_KV_F_COLD_FORMAT), and
 *	(with CXL_KV_SPACE_F_SHARE) @reserved[1] = the parent space's fd and
 *	@reserved[2] = the prefix length in tokens.
 *
 * Requires an attached tier set (else -ENODEV).  -EDQUOT when the caller's
 * uid holds ATTACH's user_spaces spaces, -ENFILE when the module holds
 * max_spaces.  The space is charged to the caller's euid (warm pages, cold
 * slots) and its metadata to the caller's memory cgroup.  The space lives
 * until its last fd is closed and its last mapping is gone.
 */
struct cxl_kv_space_create {
	__u32 layers;
	__u32 kv_heads;
	__u32 head_dim;
	__u32 dtype_bytes;
	__u64 max_tokens;
	__u64 flags;
	__u32 fd;
	__u32 tokens_per_block;
	__u32 token_bytes;
	__u32 blocks_per_stream;
	__u64 stream_bytes;
	__u64 mmap_bytes;
	__u64 reserved[4];
};

/* The new fd is O_CLOEXEC. */
#define CXL_KV_SPACE_F_CLOEXEC	(1ULL << 0)
/*
 * Shared prefix (CXL_KV_F_SHARE).  The new space is a child of the space
 * whose fd is in reserved[1] (CXL_KV_SPACE_SHARE_PARENT): its first
 * reserved[2] / tokens_per_block blocks of every (layer, head, K|V) stream
 * (CXL_KV_SPACE_SHARE_TOKENS, rounded down to whole blocks, at least one)
 * are the parent's pages, one copy on the warm or the cold tier, charged to
 * the parent's owner.  The geometry (layers, kv_heads, head_dim,
 * dtype_bytes, max_tokens) must equal the parent's, the parent must not be
 * a child itself, and the prefix must fit (else -EINVAL); reserved[1] not a
 * space fd: -EBADF / -EINVAL.  From the call on, those blocks are read-only
 * in the parent and in every child: a write to them raises SIGSEGV.  Faults
 * and commands of a child on them act on the parent's pages (promoted once,
 * demoted from every mapping at once, the parent's policy seeing the hints
 * and accesses of all readers).  The parent lives until its last child is
 * gone.  See Documentation/uapi.rst.
 */
#define CXL_KV_SPACE_F_SHARE	(1ULL << 1)
#define CXL_KV_SPACE_SHARE_PARENT	1	/* reserved[] index: parent fd */
#define CXL_KV_SPACE_SHARE_TOKENS	2	/* reserved[] index: prefix tokens */
#define CXL_KV_SPACE_F_ALL	(CXL_KV_SPACE_F_CLOEXEC | CXL_KV_SPACE_F_SHARE)

/*
 * Cold formats (CXL_KV_F_COLD_FORMAT): SPACE_CREATE's reserved[0], read and
 * written through CXL_KV_SPACE_COLD_FORMAT(c).  0 (raw) is today's format.
 *   RAW       pages are written as they are, one slot each.
 *   LOSSLESS  zstd (the kernel's) of the page split into byte planes;
 *             bit-exact.  Any dtype.
 *   INT8      lossy: K per channel, V per token, one scale byte per group
 *             (2^((c-128)/4)), elements round(x/scale) in [-127, 127].
 *   FP8       lossy: the same groups, elements OCP e4m3 (max 448).
 *   INT4      lossy: the same groups, elements in [-7, 7], two per byte.
 * The lossy formats need dtype_bytes 2: fp16, or bf16 with
 * CXL_KV_FMT_F_BF16.  Anything else is -EINVAL.  A page that does not
 * encode (NaN, Inf, bf16 outside the scales' range) or does not shrink is
 * written raw, bit-exact.  A page never demoted is never encoded.
 */
#define CXL_KV_FMT_RAW		0
#define CXL_KV_FMT_LOSSLESS	1
#define CXL_KV_FMT_INT8	2
#define CXL_KV_FMT_FP8		3
#define CXL_KV_FMT_INT4	4
#define CXL_KV_FMT_MASK	0xffULL
#define CXL_KV_FMT_F_BF16	(1ULL << 8)	/* elements are bf16, not fp16 */
#define CXL_KV_FMT_F_ALL	(CXL_KV_FMT_MASK | CXL_KV_FMT_F_BF16)
#define CXL_KV_FMT_NR		5	/* formats defined */
#define CXL_KV_SPACE_COLD_FORMAT(c)	((c)->reserved[0])

/**
 * struct cxl_kv_stats - SPACE_STATS (one space) and GLOBAL_STATS (module)
 * @flags: in: CXL_KV_STATS_F_*.
 * @pad: must be zero.
 * @warm_pages: out: pages resident on the warm tier.
 * @cold_pages: out: pages whose only copy is on the cold tier.
 * @faults_zero: out: faults on never-written pages (zeroed warm page).
 * @faults_warm: out: faults on resident pages (mapped, no I/O).
 * @faults_cold: out: faults on cold pages (synchronous promotion).
 * @promotions: out: pages read back from the cold tier (faults, PROMOTE,
 *	PREFETCH).
 * @demotions: out: pages written to the cold tier.
 * @clean_drops: out: warm pages dropped without I/O (valid cold copy).
 * @wb_aborts: out: demotions abandoned because the page was touched or
 *	freed while its write was in flight.
 * @prefetch_issued: out: pages PREFETCH started to promote.
 * @prefetch_used: out: prefetched pages later touched by a fault.
 * @nvme_read_bytes: out: bytes read from the cold tier.
 * @nvme_write_bytes: out: bytes written to the cold tier.
 * @io_errors: out: failed cold-tier bios.
 * @alloc_waits: out: warm allocations that waited for demotion.
 * @alloc_fails: out: warm allocations that failed (fault SIGBUS / -ENOMEM).
 * @hints: out: score hints applied (the sum of HINTS done).
 * @lat_hist: out: fault-to-resident latency of faults_cold, bucket i counts
 *	latencies in [2^i, 2^(i+1)) microseconds (bucket 0: < 2 us; the last
 *	bucket: everything above).
 * @gup_kept: out: pages a demotion kept warm because, once unmapped, they
 *	still had a reference beyond the module's own (a DMA pin of an
 *	O_DIRECT read, process_vm_writev, vmsplice and the like).
 * @reserved: must be zero.
 *
 * Counters only grow, except the occupancy fields @warm_pages, @cold_pages.
 */
struct cxl_kv_stats {
	__u32 flags;
	__u32 pad;
	__u64 warm_pages;
	__u64 cold_pages;
	__u64 faults_zero;
	__u64 faults_warm;
	__u64 faults_cold;
	__u64 promotions;
	__u64 demotions;
	__u64 clean_drops;
	__u64 wb_aborts;
	__u64 prefetch_issued;
	__u64 prefetch_used;
	__u64 nvme_read_bytes;
	__u64 nvme_write_bytes;
	__u64 io_errors;
	__u64 alloc_waits;
	__u64 alloc_fails;
	__u64 hints;
	__u64 lat_hist[CXL_KV_STATS_HIST];
	__u64 gup_kept;
	__u64 reserved[7];
};

#define CXL_KV_STATS_F_ALL	0U

/* ---------------------------------------------------------------------- */
/* Space fd commands                                                      */
/* ---------------------------------------------------------------------- */

/**
 * struct cxl_kv_hint - one attention score for one block
 * @layer: layer, < layers.
 * @head: KV head, < kv_heads.
 * @block: block within the (layer, head) streams, < blocks_per_stream.
 * @score: attention mass of the block at this step in units of 2^-16
 *	(0x10000 = 1.0); larger is hotter.  A score above
 *	CXL_KV_HINT_SCORE_MAX is ignored.
 * @reserved: must be zero.
 */
struct cxl_kv_hint {
	__u16 layer;
	__u16 head;
	__u32 block;
	__u32 score;
	__u32 reserved;
};

/**
 * struct cxl_kv_hints - HINTS: a batch of score hints for one decode step
 * @step: in: decode step the scores belong to (monotonic per space; an older
 *	step than the last one seen is accepted and treated as the last one).
 * @hints: in: user address of an array of struct cxl_kv_hint.
 * @count: in: entries in @hints, 1..CXL_KV_MAX_HINTS.
 * @flags: in: must be zero.
 * @done: out: hints the policy applied.  A hint for a never-written block
 *	or with a score above CXL_KV_HINT_SCORE_MAX is ignored and not counted.
 *	Entries are applied in order; a malformed one (layer, head or block
 *	out of range, reserved not zero) stops the batch with -EINVAL, and
 *	@done counts the hints applied before it.
 * @pad: must be zero.
 * @reserved: must be zero.
 */
struct cxl_kv_hints {
	__u64 step;
	__u64 hints;
	__u32 count;
	__u32 flags;
	__u32 done;
	__u32 pad;
	__u64 reserved[2];
};

/**
 * struct cxl_kv_range - a run of blocks of one (layer, head)
 * @layer: layer, < layers.
 * @head: KV head, < kv_heads.
 * @first_block: first block.
 * @nr_blocks: blocks in the run, >= 1; first_block + nr_blocks <=
 *	blocks_per_stream.
 * @reserved: must be zero.
 */
struct cxl_kv_range {
	__u16 layer;
	__u16 head;
	__u32 first_block;
	__u32 nr_blocks;
	__u32 reserved;
};

/**
 * struct cxl_kv_ranges - ACCESS, PROMOTE, DEMOTE, PIN, UNPIN
 * @step: in: decode step (ACCESS: the step of the accesses; others: ignored,
 *	must be zero).
 * @ranges: in: user address of an array of struct cxl_kv_range.
 * @count: in: entries in @ranges, 1..CXL_KV_MAX_RANGES.
 * @flags: in: CXL_KV_RANGES_F_*.
 * @done: out: blocks affected: ACCESS: reported; PROMOTE: pages of the
 *	ranges resident when the call was done with them (already warm or read
 *	back by it; never-written pages are not counted); DEMOTE: pages written
 *	or dropped; PIN/UNPIN: blocks whose pin count changed.  Written back on
 *	failure too: what was done before the error (0 for a failed PIN).
 * @reserved: must be zero.
 *
 * The ranges together name at most CXL_KV_MAX_CMD_BLOCKS blocks (-E2BIG).
 * PROMOTE and DEMOTE are synchronous: they return when the I/O is done.
 * PROMOTE stops at its first failure (-EIO; -ENOMEM when no warm room could
 * be had); DEMOTE goes on and returns its first error:
 * -ENOSPC when the cold tier is full, -EDQUOT when the space's uid holds its
 * cold slot limit (ATTACH user_cold_slots); what fitted was demoted.  DEMOTE skips pinned
 * blocks; PIN keeps a block warm (promoting it first) until UNPIN; pins
 * count, up to CXL_KV_MAX_PINS per block (-EOVERFLOW).  A PIN that fails
 * takes no pin.  A fatal signal stops any of them between two chunks of
 * blocks with -EINTR (done says how far it got; a PIN drops its pins).
 */
struct cxl_kv_ranges {
	__u64 step;
	__u64 ranges;
	__u32 count;
	__u32 flags;
	__u64 done;
	__u64 reserved[2];
};

#define CXL_KV_RANGES_F_ALL	0U

/**
 * struct cxl_kv_prefetch - PREFETCH: promote a window around a position
 * @layer: in: layer, < layers.
 * @flags: in: CXL_KV_PREFETCH_F_*.
 * @head_mask: in: bit h selects KV head h; bits >= kv_heads must be zero;
 *	not zero.
 * @pos: in: token position P, < max_tokens (else -EINVAL).
 * @window: in: W, in tokens: the blocks holding tokens [P - W, P + W]
 *	(the window is clamped to [0, max_tokens)) are promoted: at most
 *	CXL_KV_MAX_PREFETCH_PAGES pages over the selected heads (-E2BIG).
 * @issued: out: pages whose promotion this call started.
 * @resident: out: pages of the window that were already resident.
 * @reserved: must be zero.
 *
 * Through the ioctl the call returns once the reads are submitted, unless
 * CXL_KV_PREFETCH_F_WAIT is set.  Through uring_cmd the completion is posted
 * when every started promotion has finished.  A promotion that failed makes
 * the result (the ioctl's with CXL_KV_PREFETCH_F_WAIT, and cqe->res) -EIO
 * for a failed read or -ENOMEM when no warm page could be had for it; the
 * page stays cold.
 */
struct cxl_kv_prefetch {
	__u32 layer;
	__u32 flags;
	__u64 head_mask;
	__u64 pos;
	__u64 window;
	__u64 issued;
	__u64 resident;
	__u64 reserved[2];
};

/* ioctl: wait until the window is resident before returning. */
#define CXL_KV_PREFETCH_F_WAIT	(1U << 0)
#define CXL_KV_PREFETCH_F_ALL	(CXL_KV_PREFETCH_F_WAIT)

/**
 * struct cxl_kv_residency - RESIDENCY: which blocks of a range are warm
 * @layer: in: layer, < layers.
 * @head: in: KV head, < kv_heads.
 * @flags: in: must be zero.
 * @first_block: in: first block.
 * @nr_blocks: in: blocks, 1..blocks_per_stream - first_block.  The scan
 *	lets other users of the space in every few thousand blocks, so the
 *	counters of a large range are not one atomic snapshot.
 * @bitmap: in: user address of DIV_ROUND_UP(nr_blocks, 64) __u64 words;
 *	out there: bit i (word i / 64, bit i % 64) set iff no page of block
 *	first_block + i is cold, i.e. touching it needs no I/O.
 * @nr_warm: out: blocks with at least one warm page and no cold page.
 * @nr_cold: out: blocks with at least one cold page (or one in transit).
 * @nr_empty: out: blocks never written.
 * @nr_pinned: out: blocks pinned.
 * @reserved: must be zero.
 */
struct cxl_kv_residency {
	__u16 layer;
	__u16 head;
	__u32 flags;
	__u32 first_block;
	__u32 nr_blocks;
	__u64 bitmap;
	__u32 nr_warm;
	__u32 nr_cold;
	__u32 nr_empty;
	__u32 nr_pinned;
	__u64 reserved[2];
};

/**
 * struct cxl_kv_params - PARAMS_GET / PARAMS_SET: the space's policy knobs
 * @mask: SET in: CXL_KV_PARAM_* bits of the fields to change (the others
 *	keep their value and are ignored); GET out: CXL_KV_PARAM_ALL.
 * @alpha_q16: EMA weight of a new score hint, Q16 (65536 = 1.0),
 *	1..CXL_KV_PARAM_MAX_ALPHA_Q16: ema = alpha * score + (1 - alpha) * ema.
 *	Default 16384 (0.25).
 * @tau_steps: recency time constant in decode steps,
 *	1..CXL_KV_PARAM_MAX_TAU_STEPS: a block's priority decays with
 *	1 - exp(-age / tau).  Default 1000.
 * @score_shift: hint gain with CXL_KV_POLICY_F_RAW: a score s counts as
 *	min(1.0, s << score_shift), 0..CXL_KV_PARAM_MAX_SCORE_SHIFT.
 *	Default 4.
 * @sink_tokens: the first tokens of every head (attention sinks) are never
 *	demoted by the worker (with CXL_KV_POLICY_F_PROTECT).  Default 4.
 * @recent_tokens: the last written tokens of every head are never demoted by
 *	the worker (with CXL_KV_POLICY_F_PROTECT).  Default 16.
 * @pf_window: initial readahead half-window W of a cold fault, in blocks,
 *	0..@pf_window_max.  Default 1.
 * @pf_window_max: largest W the per-head adaptation may reach, in blocks,
 *	@pf_window..CXL_KV_PARAM_MAX_PF_WINDOW.  Default 8.
 * @pf_epoch: prefetch outcomes per head between two W adjustments,
 *	1..CXL_KV_PARAM_MAX_PF_EPOCH.  Default 16.
 * @phase_window: events per half of the prefill/decode detector's window,
 *	CXL_KV_PARAM_MIN_PHASE_WINDOW..CXL_KV_PARAM_MAX_PHASE_WINDOW.
 *	Default 4096.
 * @phase_enter: enter decode when reads >= phase_enter * writes,
 *	2..CXL_KV_PARAM_MAX_PHASE_ENTER (it must exceed @phase_exit >= 1).
 *	Default 10.
 * @phase_exit: leave decode when reads < phase_exit * writes,
 *	1..@phase_enter - 1.  Default 4.
 * @scan_limit: entries the victim scan looks at without success before it
 *	lowers its threshold, 1..CXL_KV_PARAM_MAX_SCAN_LIMIT.  Default 64.
 * @policy_flags: CXL_KV_POLICY_F_* (within CXL_KV_POLICY_F_MASK);
 *	CXL_KV_POLICY_F_PF_ADAPT needs CXL_KV_POLICY_F_PREFETCH.  Default
 *	CXL_KV_POLICY_F_ALL.
 * @reserved: must be zero.
 *
 * SET applies all selected fields or none: the merged set is validated as a
 * whole (-EINVAL on any out-of-range value).  A new space starts from the
 * module parameter default_policy
 * (Documentation/ABI/testing/sysfs-module-cxl_kv-default_policy); the
 * defaults named above are its built-in values.
 */
struct cxl_kv_params {
	__u64 mask;
	__u32 alpha_q16;
	__u32 tau_steps;
	__u32 score_shift;
	__u32 sink_tokens;
	__u32 recent_tokens;
	__u32 pf_window;
	__u32 pf_window_max;
	__u32 pf_epoch;
	__u32 phase_window;
	__u32 phase_enter;
	__u32 phase_exit;
	__u32 scan_limit;
	__u32 policy_flags;
	__u32 pad;
	__u64 reserved[4];
};

#define CXL_KV_PARAM_ALPHA		(1ULL << 0)
#define CXL_KV_PARAM_TAU		(1ULL << 1)
#define CXL_KV_PARAM_SCORE_SHIFT	(1ULL << 2)
#define CXL_KV_PARAM_SINK_TOKENS	(1ULL << 3)
#define CXL_KV_PARAM_RECENT_TOKENS	(1ULL << 4)
#define CXL_KV_PARAM_PF_WINDOW		(1ULL << 5)
#define CXL_KV_PARAM_PF_WINDOW_MAX	(1ULL << 6)
#define CXL_KV_PARAM_PF_EPOCH		(1ULL << 7)
#define CXL_KV_PARAM_PHASE_WINDOW	(1ULL << 8)
#define CXL_KV_PARAM_PHASE_ENTER	(1ULL << 9)
#define CXL_KV_PARAM_PHASE_EXIT		(1ULL << 10)
#define CXL_KV_PARAM_SCAN_LIMIT		(1ULL << 11)
#define CXL_KV_PARAM_POLICY_FLAGS	(1ULL << 12)
#define CXL_KV_PARAM_ALL		((1ULL << 13) - 1)

/* The limits PARAMS_SET enforces (inclusive; the minimum is 1 unless named). */
#define CXL_KV_PARAM_MAX_ALPHA_Q16	65536		/* 1.0 */
#define CXL_KV_PARAM_MAX_TAU_STEPS	(1U << 26)
#define CXL_KV_PARAM_MAX_SCORE_SHIFT	12		/* minimum 0 */
#define CXL_KV_PARAM_MAX_PF_WINDOW	32		/* pf_window_max; minimum 0 */
#define CXL_KV_PARAM_MAX_PF_EPOCH	65535
#define CXL_KV_PARAM_MIN_PHASE_WINDOW	16
#define CXL_KV_PARAM_MAX_PHASE_WINDOW	(1U << 30)
#define CXL_KV_PARAM_MAX_PHASE_ENTER	65535
#define CXL_KV_PARAM_MAX_SCAN_LIMIT	65535

/* Protect attention sinks and the recent window from demotion. */
#define CXL_KV_POLICY_F_PROTECT		(1U << 0)
/* Cold faults read ahead the policy's window (pf_window). */
#define CXL_KV_POLICY_F_PREFETCH	(1U << 1)
/* Adapt W per head from prefetch hits and waste. */
#define CXL_KV_POLICY_F_PF_ADAPT	(1U << 2)
/* Detect prefill/decode phases (off: always decode). */
#define CXL_KV_POLICY_F_PHASE		(1U << 3)
/* The default policy flags (the name predates CXL_KV_POLICY_F_RAW). */
#define CXL_KV_POLICY_F_ALL		(CXL_KV_POLICY_F_PROTECT | CXL_KV_POLICY_F_PREFETCH | \
					 CXL_KV_POLICY_F_PF_ADAPT | CXL_KV_POLICY_F_PHASE)
/*
 * Use hints raw (min(1.0, score << score_shift)) instead of normalised by the
 * head's running mean hint.  Off by default.
 */
#define CXL_KV_POLICY_F_RAW		(1U << 4)
/* Every policy flag PARAMS_SET accepts. */
#define CXL_KV_POLICY_F_MASK		(CXL_KV_POLICY_F_ALL | CXL_KV_POLICY_F_RAW)

/**
 * struct cxl_kv_space_info - SPACE_INFO: the geometry of a space fd
 * @layers: out.
 * @kv_heads: out.
 * @head_dim: out.
 * @dtype_bytes: out.
 * @max_tokens: out.
 * @flags: out: the flags it was created with.
 * @tokens_per_block: out.
 * @token_bytes: out.
 * @blocks_per_stream: out.
 * @pad: must be zero.
 * @stream_bytes: out.
 * @mmap_bytes: out.
 * @id: out: space id, unique while the module is loaded (as in dmesg).
 * @reserved: must be zero.
 */
struct cxl_kv_space_info {
	__u32 layers;
	__u32 kv_heads;
	__u32 head_dim;
	__u32 dtype_bytes;
	__u64 max_tokens;
	__u64 flags;
	__u32 tokens_per_block;
	__u32 token_bytes;
	__u32 blocks_per_stream;
	__u32 pad;
	__u64 stream_bytes;
	__u64 mmap_bytes;
	__u64 id;
	__u64 reserved[3];
};

/* ---------------------------------------------------------------------- */
/* LIST (control device, feature CXL_KV_F_LIST)                           */
/* ---------------------------------------------------------------------- */

/* Most entries one LIST returns (-EINVAL beyond). */
#define CXL_KV_MAX_LIST		1024

/**
 * struct cxl_kv_list_entry - one space in LIST's output
 * @id: the space id (SPACE_INFO.id, as in dmesg).
 * @uid: the uid the space is charged to (the euid that created it), in the
 *	caller's user namespace.
 * @pad: zero.
 * @info: its geometry, as SPACE_INFO returns it.
 * @stats: its counters, as SPACE_STATS returns them.
 */
struct cxl_kv_list_entry {
	__u64 id;
	__u32 uid;
	__u32 pad;
	struct cxl_kv_space_info info;
	struct cxl_kv_stats stats;
};

/**
 * struct cxl_kv_list - LIST: the live spaces of the caller's euid (of every
 *	uid for CAP_SYS_ADMIN)
 * @flags: must be zero.
 * @count: in: entries of room at @entries, at most CXL_KV_MAX_LIST; out:
 *	entries written (at most the room and @total).
 * @total: out: spaces the caller may list; more than @count means the room
 *	was too small (call again with more).
 * @pad: must be zero.
 * @entries: in: user address of @count struct cxl_kv_list_entry (ignored
 *	when @count is 0).
 * @reserved: must be zero.
 *
 * Needs only an fd of the control device.  With no tier set attached there
 * are no spaces: @count and @total are 0.  The snapshot is taken under one
 * lock: a space created or released during the call is in it or not.
 */
struct cxl_kv_list {
	__u32 flags;
	__u32 count;
	__u32 total;
	__u32 pad;
	__u64 entries;
	__u64 reserved[4];
};

/* ---------------------------------------------------------------------- */
/* Command numbers                                                        */
/* ---------------------------------------------------------------------- */

/* control device */
#define CXL_KV_GET_FEATURES	_IOWR(CXL_KV_IOC_TYPE, 0x00, struct cxl_kv_features)
#define CXL_KV_INFO		_IOWR(CXL_KV_IOC_TYPE, 0x01, struct cxl_kv_info)
#define CXL_KV_ATTACH		_IOWR(CXL_KV_IOC_TYPE, 0x02, struct cxl_kv_attach)
#define CXL_KV_DETACH		_IOWR(CXL_KV_IOC_TYPE, 0x03, struct cxl_kv_detach)
#define CXL_KV_SPACE_CREATE	_IOWR(CXL_KV_IOC_TYPE, 0x04, struct cxl_kv_space_create)
#define CXL_KV_GLOBAL_STATS	_IOWR(CXL_KV_IOC_TYPE, 0x05, struct cxl_kv_stats)
#define CXL_KV_LIST		_IOWR(CXL_KV_IOC_TYPE, 0x06, struct cxl_kv_list)

/* space fd */
#define CXL_KV_HINTS		_IOWR(CXL_KV_IOC_TYPE, 0x20, struct cxl_kv_hints)
#define CXL_KV_ACCESS		_IOWR(CXL_KV_IOC_TYPE, 0x21, struct cxl_kv_ranges)
#define CXL_KV_PREFETCH		_IOWR(CXL_KV_IOC_TYPE, 0x22, struct cxl_kv_prefetch)
#define CXL_KV_PROMOTE		_IOWR(CXL_KV_IOC_TYPE, 0x23, struct cxl_kv_ranges)
#define CXL_KV_DEMOTE		_IOWR(CXL_KV_IOC_TYPE, 0x24, struct cxl_kv_ranges)
#define CXL_KV_PIN		_IOWR(CXL_KV_IOC_TYPE, 0x25, struct cxl_kv_ranges)
#define CXL_KV_UNPIN		_IOWR(CXL_KV_IOC_TYPE, 0x26, struct cxl_kv_ranges)
#define CXL_KV_RESIDENCY	_IOWR(CXL_KV_IOC_TYPE, 0x27, struct cxl_kv_residency)
#define CXL_KV_PARAMS_GET	_IOWR(CXL_KV_IOC_TYPE, 0x28, struct cxl_kv_params)
#define CXL_KV_PARAMS_SET	_IOWR(CXL_KV_IOC_TYPE, 0x29, struct cxl_kv_params)
#define CXL_KV_SPACE_STATS	_IOWR(CXL_KV_IOC_TYPE, 0x2a, struct cxl_kv_stats)
#define CXL_KV_SPACE_INFO	_IOWR(CXL_KV_IOC_TYPE, 0x2b, struct cxl_kv_space_info)

/* ---------------------------------------------------------------------- */
/* The layer pipeline (issue 13): LAYER_BEGIN, PIPE_STATS                 */
/* ---------------------------------------------------------------------- */

/*
 * CXL_KV_F_LAYER_PIPELINE: space commands LAYER_BEGIN and PIPE_STATS.  The
 * server says which layer of which decode step it is about to compute; the
 * module promotes in the background the cold blocks of the next layers that
 * its policy expects to be read.
 */
#define CXL_KV_F_LAYER_PIPELINE	(1ULL << 9)

#define CXL_KV_MAX_PIPE_DEPTH	8	/* layers ahead of one LAYER_BEGIN */
#define CXL_KV_MAX_PIPE_PAGES	(1U << 15)	/* pages one plan may name */

/**
 * struct cxl_kv_layer_begin - LAYER_BEGIN: the server begins a layer
 * @layer: in: the layer whose reads start now, < layers.
 * @step: in: the decode step (the one ACCESS reports use; wraps).
 * @depth: in: layers ahead to promote: layer + 1 .. layer + depth (modulo
 *	layers: after the last layer comes layer 0 of the next step),
 *	1..min(CXL_KV_MAX_PIPE_DEPTH, layers - 1).
 * @flags: in: CXL_KV_LAYER_F_*.
 * @max_pages: in: the space's prefetch budget: most pages one plan names
 *	(and so reads); 0 = the default (warm budget / 8); larger values are
 *	clamped to the warm budget / 2 and to CXL_KV_MAX_PIPE_PAGES.
 * @reserved: must be zero.
 *
 * The policy names, for each of those layers and each KV head, the blocks
 * read during the previous step (its hot set) and the blocks within the
 * head's prefetch window of them (the RoPE-local neighbourhood), those that
 * are cold now.  The module promotes them from a worker, at most @max_pages
 * pages.  A LAYER_BEGIN replaces the plan of the one before: what of it has
 * not been read yet is dropped (counted as cancelled), and the blocks of
 * the layer that has just begun are never read ahead any more (the reads of
 * the layer fault them in).  The call itself does not wait: it returns once
 * the plan is queued, unless CXL_KV_LAYER_F_WAIT is set (the call returns
 * when the plan has been carried out; killable: -EINTR).
 */
struct cxl_kv_layer_begin {
	__u32 layer;
	__u32 step;
	__u32 depth;
	__u32 flags;
	__u64 max_pages;
	__u64 reserved[4];
};

#define CXL_KV_LAYER_F_WAIT	(1U << 0)
#define CXL_KV_LAYER_F_ALL	(CXL_KV_LAYER_F_WAIT)

/**
 * struct cxl_kv_pipe_stats - PIPE_STATS: what the layer pipeline of a space did
 * @flags: in: must be zero.
 * @pad: must be zero.
 * @layer_begins: LAYER_BEGIN calls.
 * @planned: cold pages the policy named for the plans.
 * @issued: pages whose promotion the pipeline started.
 * @used: of those, pages faulted after their read had finished (in time).
 * @late: of those, pages a fault found still being read and waited for.
 * @unread: of those, pages that left the warm tier (demoted or dropped)
 *	without being faulted: prefetched and never read.
 * @cancelled: planned pages dropped before their read started: a newer
 *	LAYER_BEGIN came, or the layer itself began.
 * @over_budget: planned pages beyond the plan's budget (not read): its
 *	@max_pages, or less while the pipeline's reads go unread (the budget
 *	drops to an eighth after 128 outcomes of which fewer than half were used, and
 *	doubles back up to @max_pages after more; below 16 pages it is 0 but
 *	for one plan in 64, which reads 16 pages to try again).
 * @reserved: zero.
 */
struct cxl_kv_pipe_stats {
	__u32 flags;
	__u32 pad;
	__u64 layer_begins;
	__u64 planned;
	__u64 issued;
	__u64 used;
	__u64 late;
	__u64 unread;
	__u64 cancelled;
	__u64 over_budget;
	__u64 reserved[6];
};

#define CXL_KV_LAYER_BEGIN	_IOWR(CXL_KV_IOC_TYPE, 0x2e, struct cxl_kv_layer_begin)
#define CXL_KV_PIPE_STATS	_IOWR(CXL_KV_IOC_TYPE, 0x2f, struct cxl_kv_pipe_stats)

#endif /* _UAPI_LINUX_CXL_KV_H */
