// SPDX-License-Identifier: GPL-2.0
/*
 * lib_uring - the cxl_kv_prep_*() builders on a caller's own ring: one
 * batch of demote, residency, score, access, prefetch, promote, pin, unpin,
 * stats and a generic cxl_kv_prep_cmd(PARAMS_GET), linked in order
 * (IOSQE_IO_LINK), each completion checked by user_data.
 */
#include <liburing.h>

#include "lib_util.h"

enum { DEMOTE, RES, SCORE, ACCESS, PREFETCH, PROMOTE, PIN, UNPIN, STATS,
       PARAMS, NR };
static const char *const names[NR] = {
	"prep_demote", "prep_residency", "prep_score", "prep_access",
	"prep_prefetch", "prep_promote", "prep_pin", "prep_unpin", "prep_stats",
	"prep_cmd_params_get",
};

int main(void)
{
	struct cxl_kv_geometry g = { 2, 2, 128, 2, 256 };
	struct cxl_kv_range rd = { .layer = 1, .head = 1, .first_block = 0, .nr_blocks = 4 };
	struct cxl_kv_range rp = { .layer = 1, .head = 1, .first_block = 2, .nr_blocks = 2 };
	struct cxl_kv_hint hint = { .layer = 1, .head = 0, .block = 3, .score = 65536 };
	struct cxl_kv_ranges demote = { .ranges = (uintptr_t)&rd, .count = 1 };
	struct cxl_kv_ranges access = { .step = 3, .ranges = (uintptr_t)&rd, .count = 1 };
	struct cxl_kv_ranges promote = { .ranges = (uintptr_t)&rp, .count = 1 };
	struct cxl_kv_ranges pin = { .ranges = (uintptr_t)&rp, .count = 1 };
	struct cxl_kv_ranges unpin = { .ranges = (uintptr_t)&rp, .count = 1 };
	struct cxl_kv_hints score = { .step = 3, .hints = (uintptr_t)&hint, .count = 1 };
	struct cxl_kv_prefetch pf = { .layer = 1, .head_mask = 2, .pos = 0, .window = 16 };
	uint64_t bm[1] = { 0 };
	struct cxl_kv_residency res = { .layer = 1, .head = 1, .first_block = 0,
					 .nr_blocks = 16, .bitmap = (uintptr_t)bm };
	struct cxl_kv_stats st;
	struct cxl_kv_params params = { 0 };
	struct cxl_kv_features f;
	struct cxl_kv_space *s;
	struct cxl_kv_ctx *ctx;
	struct io_uring ring;
	const char *why = lib_unavailable();
	int rc, fd, resv[NR], seen = 0;

	if (why)
		return ktap_skip_all(why);
	ctx = lib_ctx();
	if (!ctx)
		return ktap_skip_all("cxl_kv_new failed");
	if (cxl_kv_get_features(ctx, &f) || !(f.features & CXL_KV_F_URING_CMD))
		return ktap_skip_all("module without CXL_KV_F_URING_CMD");
	if (lib_attach(ctx, 1024, 32ULL << 20))
		return ktap_skip_all("attach failed");
	if (cxl_kv_space_create(ctx, &g, &s) || cxl_kv_space_map(s, NULL))
		return ktap_skip_all("space create/map failed");
	if (io_uring_queue_init(16, &ring, 0))
		return ktap_skip_all("io_uring_queue_init failed");
	fd = cxl_kv_space_get_fd(s);
	/* write every page of (1, 1) and (1, 0) so there is data to move */
	for (uint64_t t = 0; t < 256; t++)
		for (unsigned int k = 0; k < 2; k++) {
			memset(cxl_kv_kv_ptr(s, 1, 1, k, t), 0x5a, 256);
			memset(cxl_kv_kv_ptr(s, 1, 0, k, t), 0x3c, 256);
		}
	ktap_plan(NR + 4);

	for (int i = 0; i < NR; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		switch (i) {
		case DEMOTE: rc = cxl_kv_prep_demote(sqe, fd, &demote); break;
		case RES: rc = cxl_kv_prep_residency(sqe, fd, &res); break;
		case SCORE: rc = cxl_kv_prep_score(sqe, fd, &score); break;
		case ACCESS: rc = cxl_kv_prep_access(sqe, fd, &access); break;
		case PREFETCH: rc = cxl_kv_prep_prefetch(sqe, fd, &pf); break;
		case PROMOTE: rc = cxl_kv_prep_promote(sqe, fd, &promote); break;
		case PIN: rc = cxl_kv_prep_pin(sqe, fd, &pin); break;
		case UNPIN: rc = cxl_kv_prep_unpin(sqe, fd, &unpin); break;
		case STATS: rc = cxl_kv_prep_stats(sqe, fd, &st); break;
		default:
			rc = cxl_kv_prep_cmd(sqe, fd, CXL_KV_PARAMS_GET, &params,
					     sizeof(params));
		}
		if (rc)
			ktap_diag("prep %s: %d", names[i], rc);
		io_uring_sqe_set_data64(sqe, (uint64_t)i);
		/* in order: each waits for the one before */
		if (i != NR - 1)
			sqe->flags |= IOSQE_IO_LINK;
		resv[i] = 1 << 30;
	}
	rc = io_uring_submit_and_wait(&ring, NR);
	T("submit_batch", rc == NR, "rc %d", rc);
	for (int i = 0; i < NR; i++) {
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe(&ring, &cqe))
			break;
		if (cqe->user_data < NR) {
			resv[cqe->user_data] = cqe->res;
			seen++;
		}
		io_uring_cqe_seen(&ring, cqe);
	}
	T("all_completions", seen == NR, "seen %d", seen);
	for (int i = 0; i < NR; i++)
		T(names[i], resv[i] == 0, "res %d", resv[i]);
	T("outputs_written_back", demote.done > 0 && res.nr_cold == 4 &&
	  bm[0] == 0xfff0 && score.done == 1 && access.done == 4 &&
	  promote.done > 0 && pin.done == 2 && unpin.done == 2 &&
	  params.alpha_q16 == 16384 && st.demotions >= 8,
	  "demote %llu cold %u bm %#llx score %u access %llu promote %llu pin %llu "
	  "unpin %llu alpha %u demotions %llu", (unsigned long long)demote.done,
	  res.nr_cold, (unsigned long long)bm[0], score.done,
	  (unsigned long long)access.done, (unsigned long long)promote.done,
	  (unsigned long long)pin.done, (unsigned long long)unpin.done,
	  params.alpha_q16, (unsigned long long)st.demotions);
	{
		int bad = 0;

		for (uint64_t t = 0; t < 256; t++)
			for (unsigned int k = 0; k < 2; k++) {
				unsigned char *p = cxl_kv_kv_ptr(s, 1, 1, k, t);

				for (int b = 0; b < 256; b++)
					bad += p[b] != 0x5a;
			}
		T("data_intact", bad == 0, "%d bad bytes", bad);
	}
	io_uring_queue_exit(&ring);
	cxl_kv_space_close(s);
	cxl_kv_detach(ctx);
	cxl_kv_unref(ctx);
	return ktap_finish();
}
