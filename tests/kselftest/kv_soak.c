// SPDX-License-Identifier: GPL-2.0
/*
 * kv_soak - a long decode soak of the cxl_kv module (make soak; not in CI).
 *
 *   kv_soak [--seconds N] [--clients N] [--kill-every S]
 *
 * (or SOAK_SECONDS in the environment; default 1800).  N client processes
 * (default 4) each run two sequences at a time: a space per sequence, a
 * prompt of half the context written at once, then decode steps that append one token to every
 * (layer, head) stream, read back a sample of earlier tokens (the
 * attention), send their blocks as HINTS and ACCESS and PREFETCH the next
 * layer.  All sequences together are four times the warm budget, so the
 * demotion worker runs the whole time.  Every token read is compared with
 * what its sequence wrote, and a finished sequence is read back whole
 * before its space is closed.  Every --kill-every seconds (default 30) a
 * random client gets SIGKILL in whatever it is doing and a new one takes
 * its place.  At the end the module must hold no space, page or slot (the
 * soak suite runs kv_leak around it for the kernel's own counters).
 *
 * Prints "soak-summary: seconds=T tokens=N bytes_verified=B sequences=S
 * kills=K mismatches=M".
 */
#include <signal.h>
#include <stdatomic.h>

#include "kv_test.h"

#define SK_LAYERS	4
#define SK_HEADS	4
#define SK_DIM		128	/* x 2 bytes: 256-byte tokens, 16 per page */
#define SK_TOKEN	256
#define SK_BUDGET	4096	/* warm pages */
#define SK_TOKENS	1024	/* per sequence: 2048 pages */
#define SK_SEQS		2	/* per client */
#define SK_MAX_CLIENTS	16

struct sk_shared {
	atomic_int stop;
	atomic_ullong tokens, bytes, seqs, mismatches;
	char fail[512];
	atomic_int fail_taken;
};

struct sk_seq {
	int fd;
	char *map;
	uint64_t id;		/* in every word the sequence writes */
	uint32_t len;		/* tokens written */
	struct cxl_kv_space_create c;
};

static struct sk_shared *sh;

static uint64_t sk_word(uint64_t id, uint32_t stream, uint32_t tok, uint32_t w)
{
	return kv_pat(id, ((uint64_t)stream << 32) | tok, w);
}

static char *sk_tok(struct sk_seq *q, uint32_t stream, uint32_t tok)
{
	return q->map + stream * q->c.stream_bytes + (uint64_t)tok * SK_TOKEN;
}

static void sk_write(struct sk_seq *q, uint32_t tok)
{
	for (uint32_t s = 0; s < 2 * SK_LAYERS * SK_HEADS; s++) {
		uint64_t *p = (uint64_t *)sk_tok(q, s, tok);

		for (uint32_t w = 0; w < SK_TOKEN / 8; w++)
			p[w] = sk_word(q->id, s, tok, w);
	}
}

static int sk_check(struct sk_seq *q, uint32_t s, uint32_t tok)
{
	const uint64_t *p = (const uint64_t *)sk_tok(q, s, tok);

	for (uint32_t w = 0; w < SK_TOKEN / 8; w++) {
		if (p[w] != sk_word(q->id, s, tok, w)) {
			char msg[256];

			snprintf(msg, sizeof(msg),
				 "sequence %llu stream %u token %u word %u: %#llx, want %#llx",
				 (unsigned long long)q->id, s, tok, w,
				 (unsigned long long)p[w],
				 (unsigned long long)sk_word(q->id, s, tok, w));
			printf("# MISMATCH %s\n", msg);
			fflush(stdout);
			if (!atomic_exchange(&sh->fail_taken, 1))
				snprintf(sh->fail, sizeof(sh->fail), "%s", msg);
			atomic_fetch_add(&sh->mismatches, 1);
			return -1;
		}
	}
	atomic_fetch_add(&sh->bytes, SK_TOKEN);
	return 0;
}

static int sk_open(int ctl, struct sk_seq *q, uint64_t id)
{
	kv_geom(&q->c, SK_LAYERS, SK_HEADS, SK_DIM, SK_TOKENS);
	q->fd = kv_space(ctl, &q->c);
	if (q->fd < 0)
		return q->fd;
	q->map = mmap(NULL, q->c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, q->fd, 0);
	if (q->map == MAP_FAILED) {
		close(q->fd);
		return -errno;
	}
	q->id = id;
	q->len = 0;
	return 0;
}

static void sk_close(struct sk_seq *q)
{
	munmap(q->map, q->c.mmap_bytes);
	close(q->fd);
}

/* One decode step of @q: append a token, attend to a sample, tell the module. */
static void sk_step(struct sk_seq *q, uint64_t *rng, uint64_t step)
{
	struct cxl_kv_hint h[16];
	struct cxl_kv_range r[16];
	uint32_t tpb = q->c.tokens_per_block, n = 0;

	sk_write(q, q->len++);
	atomic_fetch_add(&sh->tokens, 1);
	for (int i = 0; i < 16; i++) {
		uint32_t tok, l, hd;

		*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
		/* attention: the sinks, the recent window, and anywhere */
		tok = (uint32_t)(*rng >> 33);
		tok = i < 2 ? tok % 4 : i < 8 ? q->len - 1 - tok % (q->len < 64 ? q->len : 64) :
					tok % q->len;
		l = (uint32_t)(*rng >> 20) % SK_LAYERS;
		hd = (uint32_t)(*rng >> 12) % SK_HEADS;
		for (int k = 0; k < 2; k++)
			if (sk_check(q, (l * SK_HEADS + hd) * 2 + k, tok))
				return;
		h[n] = (struct cxl_kv_hint){ .layer = (uint16_t)l, .head = (uint16_t)hd,
					     .block = tok / tpb, .score = 1 + (uint32_t)(*rng >> 40) };
		r[n] = (struct cxl_kv_range){ .layer = (uint16_t)l, .head = (uint16_t)hd,
					      .first_block = tok / tpb, .nr_blocks = 1 };
		n++;
	}
	{
		struct cxl_kv_hints hq = { .step = step, .hints = (uintptr_t)h, .count = n };
		struct cxl_kv_ranges rq = { .step = step, .ranges = (uintptr_t)r, .count = n };
		struct cxl_kv_prefetch pf = { .layer = (uint32_t)(step % SK_LAYERS),
					      .head_mask = (1ULL << SK_HEADS) - 1,
					      .pos = q->len - 1, .window = 32 };

		ioctl(q->fd, CXL_KV_HINTS, &hq);
		ioctl(q->fd, CXL_KV_ACCESS, &rq);
		ioctl(q->fd, CXL_KV_PREFETCH, &pf);
	}
}

static void sk_client(int ctl, int slot, uint64_t gen)
{
	struct sk_seq q[SK_SEQS];
	uint64_t rng = gen * 0x9E3779B97F4A7C15ULL + (uint64_t)slot, step = 0, next = 1;

	for (int i = 0; i < SK_SEQS; i++) {
		if (sk_open(ctl, &q[i], (gen << 20) | ((uint64_t)slot << 8) | next++))
			_exit(3);
		/* a prompt of half the context, written at once */
		for (uint32_t t = 0; t < SK_TOKENS / 2; t++)
			sk_write(&q[i], q[i].len++);
	}
	while (!atomic_load(&sh->stop)) {
		for (int i = 0; i < SK_SEQS; i++) {
			struct sk_seq *s = &q[i];

			sk_step(s, &rng, step);
			if (s->len < SK_TOKENS)
				continue;
			/* finished: every token of every stream, then a new one */
			for (uint32_t st = 0; st < 2 * SK_LAYERS * SK_HEADS; st++)
				for (uint32_t t = 0; t < SK_TOKENS; t++)
					if (sk_check(s, st, t))
						_exit(1);
			sk_close(s);
			atomic_fetch_add(&sh->seqs, 1);
			if (sk_open(ctl, s, (gen << 20) | ((uint64_t)slot << 8) | (next++ & 0xff)))
				_exit(3);
			for (uint32_t t = 0; t < SK_TOKENS / 2; t++)
				sk_write(s, s->len++);
		}
		step++;
		if (atomic_load(&sh->mismatches))
			_exit(1);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	long seconds = guest_env_int("SOAK_SECONDS") > 0 ? guest_env_int("SOAK_SECONDS") : 1800;
	int clients = 4, kill_every = 30, ctl, bad = 0;
	pid_t pid[SK_MAX_CLIENTS];
	uint64_t gen = 1, kills = 0;
	struct cxl_kv_info info = { 0 };
	struct cxl_kv_stats g;
	double t0, last_kill, next_report;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seconds"))
			seconds = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--clients"))
			clients = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--kill-every"))
			kill_every = atoi(argv[i + 1]);
	}
	if (clients < 1 || clients > SK_MAX_CLIENTS)
		clients = 4;
	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return ktap_skip_all("no shared memory");
	kv_detach_quiet(ctl);
	if (kv_attach(ctl, SK_BUDGET, 1, 0))
		return ktap_skip_all("ATTACH failed");
	ktap_plan(3);
	ktap_diag("kv_soak: %ld s, %d clients x %d sequences of %u tokens (%u pages each), budget %u pages (%.1fx), SIGKILL every %d s",
		  seconds, clients, SK_SEQS, SK_TOKENS, 2 * SK_LAYERS * SK_HEADS * SK_TOKENS / 16,
		  SK_BUDGET, (double)clients * SK_SEQS * 2 * SK_LAYERS * SK_HEADS * SK_TOKENS / 16 / SK_BUDGET,
		  kill_every);
	t0 = last_kill = kv_now();
	next_report = t0 + 300;
	for (int i = 0; i < clients; i++) {
		pid[i] = fork();
		if (!pid[i])
			sk_client(ctl, i, gen + (uint64_t)i);
	}
	gen += (uint64_t)clients;
	while (kv_now() - t0 < seconds && !atomic_load(&sh->mismatches)) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p > 0) {	/* a client ended on its own: a failure */
			for (int i = 0; i < clients; i++)
				if (pid[i] == p) {
					ktap_diag("client %d ended: status %#x", i, st);
					bad++;
					pid[i] = fork();
					if (!pid[i])
						sk_client(ctl, i, gen);
					gen++;
				}
			continue;
		}
		if (kv_now() - last_kill >= kill_every) {
			int i = (int)(gen % (uint64_t)clients);

			kill(pid[i], SIGKILL);
			waitpid(pid[i], &st, 0);
			kills++;
			pid[i] = fork();
			if (!pid[i])
				sk_client(ctl, i, gen);
			gen++;
			last_kill = kv_now();
		}
		if (kv_now() >= next_report && (next_report += 300))
			ktap_diag("%.0f s: %llu tokens, %llu bytes verified, %llu sequences",
				  kv_now() - t0, (unsigned long long)atomic_load(&sh->tokens),
				  (unsigned long long)atomic_load(&sh->bytes),
				  (unsigned long long)atomic_load(&sh->seqs));
		usleep(1000000);
	}
	atomic_store(&sh->stop, 1);
	for (int i = 0; i < clients; i++) {
		int st;

		waitpid(pid[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			ktap_diag("client %d ended at stop: status %#x", i, st);
			bad++;
		}
	}
	kv_stats(ctl, CXL_KV_GLOBAL_STATS, &g);
	ktap_diag("kv_soak: %.0f s, %llu tokens, %llu bytes verified, %llu sequences finished, %llu clients killed; demotions %llu promotions %llu faults_cold %llu alloc_waits %llu alloc_fails %llu",
		  kv_now() - t0, (unsigned long long)atomic_load(&sh->tokens),
		  (unsigned long long)atomic_load(&sh->bytes),
		  (unsigned long long)atomic_load(&sh->seqs), (unsigned long long)kills,
		  (unsigned long long)g.demotions, (unsigned long long)g.promotions,
		  (unsigned long long)g.faults_cold, (unsigned long long)g.alloc_waits,
		  (unsigned long long)g.alloc_fails);
	ktap_result(KTAP_CHECK(!atomic_load(&sh->mismatches), "%llu mismatches, the first: %s",
			       (unsigned long long)atomic_load(&sh->mismatches), sh->fail),
		    "soak_byte_exact");
	ktap_result(KTAP_CHECK(!bad && g.demotions > 0, "%d clients failed, %llu demotions",
			       bad, (unsigned long long)g.demotions),
		    "soak_clients_and_demotion");
	for (int i = 0; i < 50; i++) {
		if (kv_info(ctl, &info) || (!info.nr_spaces && !info.warm_pages && !info.cold_used))
			break;
		usleep(100000);
	}
	ktap_result(KTAP_CHECK(!info.nr_spaces && !info.warm_pages && !info.cold_used,
			       "spaces %u warm %llu cold slots %llu", info.nr_spaces,
			       (unsigned long long)info.warm_pages,
			       (unsigned long long)info.cold_used),
		    "soak_nothing_left");
	kv_detach_quiet(ctl);
	printf("soak-summary: seconds=%.0f tokens=%llu bytes_verified=%llu sequences=%llu kills=%llu mismatches=%llu\n",
	       kv_now() - t0, (unsigned long long)atomic_load(&sh->tokens),
	       (unsigned long long)atomic_load(&sh->bytes),
	       (unsigned long long)atomic_load(&sh->seqs), (unsigned long long)kills,
	       (unsigned long long)atomic_load(&sh->mismatches));
	return ktap_finish();
}
