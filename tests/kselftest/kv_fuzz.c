// SPDX-License-Identifier: GPL-2.0
/*
 * kv_fuzz - a seeded fuzzer of the cxl_kv module, with a data oracle.
 *
 *   kv_fuzz [--seed N] [--seconds N] [--workers N]
 *           [--avoid known|ranges,detach,pins] [--verbose]
 *
 * (or FUZZ_SEED, FUZZ_SECONDS, FUZZ_WORKERS, FUZZ_AVOID in the
 * environment; the command line wins).  One root process (the admin) runs
 * ATTACH, DETACH and control commands, racing DETACH against the last close
 * of spaces; N workers (half under uid 60001, half under 60002, both in the
 * device's group when the node is not world-accessible) each own up to
 * three spaces and run random commands on them through ioctl and uring_cmd,
 * write and read their pages through every path (kv_fuzz_mem.c), fork
 * children that race them and get killed.  At the end every worker must
 * have ended, no data mismatch may have been seen, and once every process
 * is gone the module must hold no space, warm page or cold slot.
 *
 * --avoid known steers clear of the crashes issue 10 lists (the PIN
 * overflow and ACCESS lockups: the total of blocks of a range command is
 * bounded; DETACH against the last close: no DETACH while workers run; pins
 * are given back at once) so the rest can be fuzzed on a module that still
 * has them; --avoid ranges, detach or pins (a comma list) leaves out one
 * kind.  By default every one of them is generated.
 *
 * Prints "fuzz-summary: seed=S seconds=T calls=N calls_per_s=R cmds=C
 * uring=U mismatches=M" for the rig.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kv_test.h"
#include "kv_fuzz.h"

#define FZ_UID0		60001
#define FZ_GID		60000	/* the device's group if it has none */
#define FZ_BUDGET	4096	/* warm pages: the workers write more */
#define FZ_BUF_BYTES	(2UL << 20)
#define FZ_DIO_SPAN	(1UL << 20)	/* a worker's share of the scratch device */

static double fz_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fz_sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static int fz_init(struct fz *f, struct fz_shared *sh, uint64_t seed, int id)
{
	f->seed = seed;
	f->id = id;
	f->rng = seed ^ ((uint64_t)id * 0xD1B54A32D192ED03ULL);
	f->sh = sh;
	for (int i = 0; i < FZ_SPACES; i++)
		f->sp[i].fd = -1;
	f->guard = mmap(NULL, 2 * FZ_PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->ropage = mmap(NULL, FZ_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->hole = mmap(NULL, FZ_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->buf = mmap(NULL, FZ_BUF_BYTES, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->dio_buf = mmap(NULL, 2 * FZ_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->guard == MAP_FAILED || f->ropage == MAP_FAILED || f->hole == MAP_FAILED ||
	    f->buf == MAP_FAILED || f->dio_buf == MAP_FAILED)
		return -1;
	mprotect(f->guard + FZ_PAGE, FZ_PAGE, PROT_NONE);
	munmap(f->hole, FZ_PAGE);	/* a hole nothing else takes soon */
	f->dio_base = (uint64_t)id * FZ_DIO_SPAN;
	return 0;
}

/* ---- the admin: ATTACH, DETACH, and DETACH against the last close ------ */

static int fz_attach(struct fz *f)
{
	struct cxl_kv_attach a;

	kv_attach_req(&a, FZ_BUDGET, 1, 0);
	return (int)fz_sys_ioctl(f, f->ctl, CXL_KV_ATTACH, &a);
}

struct fz_closer {
	int fd;
	void *map;
	size_t len;
};

static void *fz_close_thread(void *arg)
{
	struct fz_closer *c = arg;

	if (c->map)
		munmap(c->map, c->len);
	close(c->fd);
	return NULL;
}

/*
 * Issue 10, 2: a space of 2^20 pages whose only data is in its last block,
 * closed in one thread while DETACH runs in this one.
 */
static void fz_detach_race(struct fz *f)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_detach d = { 0 };
	struct fz_closer cl = { -1, NULL, 0 };
	pthread_t t;
	long ret;

	kv_geom(&c, 1, 1, 2048, 1 << 19);
	if (fz_sys_ioctl(f, f->ctl, CXL_KV_SPACE_CREATE, &c))
		return;
	cl.fd = (int)c.fd;
	cl.len = c.mmap_bytes;
	cl.map = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, cl.fd, 0);
	if (cl.map == MAP_FAILED) {
		cl.map = NULL;
	} else {
		char one = 1;

		fz_copy((char *)cl.map + c.mmap_bytes - FZ_PAGE, &one, 1);
		if (fz_below(f, 2))
			munmap(cl.map, c.mmap_bytes), cl.map = NULL;
	}
	if (pthread_create(&t, NULL, fz_close_thread, &cl)) {
		fz_close_thread(&cl);
		return;
	}
	fz_sleep_us((long)fz_below(f, 200));
	ret = fz_sys_ioctl(f, f->ctl, CXL_KV_DETACH, &d);
	pthread_join(t, NULL);
	if (!ret)
		atomic_fetch_add(&f->sh->detach_ok, 1);
}

static void fz_reattach(struct fz *f)
{
	struct cxl_kv_info info;

	if (kv_info(f->ctl, &info) || info.attached)
		return;
	atomic_store(&f->sh->attached, 0);
	for (int i = 0; i < 4; i++)	/* bad requests first */
		fz_cmd_ctl(f);
	while (fz_attach(f) && !atomic_load(&f->sh->stop))
		fz_sleep_us(1000);
	atomic_store(&f->sh->attached, 1);
}

/*
 * Every 5-25 s the workers drop every space.  By default DETACH is
 * hammered while they close (issue 10, 2: DETACH against the last close),
 * then raced against the close of a space of the admin's own; with
 * --avoid known DETACH waits until no space is left.
 */
static void fz_quiet_phase(struct fz *f)
{
	struct cxl_kv_detach d = { 0 };
	struct cxl_kv_info info;
	double end;

	atomic_store(&f->sh->quiet_ack, 0);
	atomic_store(&f->sh->quiet, 1);
	end = fz_now() + 30;
	while (atomic_load(&f->sh->quiet_ack) < f->sh->workers && fz_now() < end &&
	       !atomic_load(&f->sh->stop)) {
		if (!(f->avoid & FZ_AVOID_DETACH) &&
		    !fz_sys_ioctl(f, f->ctl, CXL_KV_DETACH, &d)) {
			atomic_fetch_add(&f->sh->detach_ok, 1);
			fz_reattach(f);
		}
		fz_sleep_us(f->avoid & FZ_AVOID_DETACH ? 1000 : 50);
	}
	if (f->avoid & FZ_AVOID_DETACH) {
		/* nr_spaces drops before a closing space has drained: wait
		 * for its pages and slots to go too */
		for (int i = 0; i < 100; i++) {
			if (kv_info(f->ctl, &info) ||
			    (!info.nr_spaces && !info.warm_pages && !info.cold_used))
				break;
			fz_sleep_us(50000);
		}
		fz_sleep_us(200000);
		if (!fz_sys_ioctl(f, f->ctl, CXL_KV_DETACH, &d))
			atomic_fetch_add(&f->sh->detach_ok, 1);
	} else {
		for (int i = 0; i < 4; i++) {
			fz_detach_race(f);
			fz_reattach(f);
		}
	}
	fz_reattach(f);
	atomic_store(&f->sh->quiet, 0);
}

static void fz_admin(struct fz *f)
{
	double next_quiet = fz_now() + 5 + (double)fz_below(f, 20);

	while (!atomic_load(&f->sh->stop)) {
		struct cxl_kv_info info;
		uint64_t r = fz_below(f, 100);

		f->op++;
		if (fz_now() > next_quiet) {
			fz_quiet_phase(f);
			next_quiet = fz_now() + 5 + (double)fz_below(f, 20);
		}
		if (r < 40) {
			fz_cmd_ctl(f);
		} else if (r < 55 && !(f->avoid & FZ_AVOID_DETACH)) {
			fz_detach_race(f);
		} else if (r < 60 && !(f->avoid & FZ_AVOID_DETACH)) {
			struct cxl_kv_detach d = { 0 };

			if (!fz_sys_ioctl(f, f->ctl, CXL_KV_DETACH, &d))
				atomic_fetch_add(&f->sh->detach_ok, 1);
		} else if (r < 70) {
			fz_cmd_random_ioctl(f);
		} else {
			fz_sleep_us((long)fz_below(f, 5000));
		}
		/* detached (by a DETACH that won): bad requests, then a good one */
		if (!kv_info(f->ctl, &info) && !info.attached)
			fz_reattach(f);
	}
}

/* ---- workers ----------------------------------------------------------- */

static const char *const fz_kinds[8] = {
	"open", "ioctl", "uring", "mem", "fork", "ctl", "close", "idle",
};

static void fz_worker(struct fz *f)
{
	while (!atomic_load(&f->sh->stop)) {
		struct fz_space *s = &f->sp[fz_below(f, FZ_SPACES)];
		uint64_t r = fz_below(f, 100);
		double t = fz_now();
		int k;

		f->op++;
		if (atomic_load(&f->sh->quiet)) {	/* the admin's DETACH phase */
			fz_rings_down(f);
			for (int i = 0; i < FZ_SPACES; i++)
				fz_space_close(f, &f->sp[i], 1);
			atomic_fetch_add(&f->sh->quiet_ack, 1);
			while (atomic_load(&f->sh->quiet) && !atomic_load(&f->sh->stop))
				fz_sleep_us(2000);
			continue;
		}
		if (s->fd < 0 && !s->map) {
			k = 0;
			fz_space_close(f, s, 1);	/* forget its oracle */
			if (fz_below(f, 3) || fz_space_open(f, s))
				fz_cmd_ctl(f);
		} else if (r < 22 && s->fd >= 0) {
			k = 1;
			fz_cmd_space(f, s);
		} else if (r < 34 && s->fd >= 0) {
			k = 2;
			fz_uring_op(f, s);
		} else if (r < 72 && s->map) {
			k = 3;
			fz_mem_op(f, s);
		} else if (r < 76) {
			k = 4;
			fz_child_op(f, s);
		} else if (r < 83) {
			k = 5;
			fz_cmd_ctl(f);
		} else if (r < 86) {
			k = 5;
			fz_cmd_random_ioctl(f);
		} else if (r < 88) {	/* the fd goes, the mapping keeps the space */
			k = 6;
			fz_space_close(f, s, 0);
		} else if (r < 89) {
			k = 6;
			fz_space_close(f, s, 1);
		} else {
			k = 7;
			if (s->map)
				fz_mem_op(f, s);
		}
		f->t_kind[k] += fz_now() - t;
		f->n_kind[k]++;
	}
	{
		char line[512];
		int n = 0;

		for (int k = 0; k < 8; k++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %lu/%.1fs",
				      fz_kinds[k], f->n_kind[k], f->t_kind[k]);
		printf("# worker %d (uid %d): %llu ops:%s\n", f->id, (int)getuid(),
		       (unsigned long long)f->op, line);
		fflush(stdout);
	}
	fz_rings_down(f);
	for (int i = 0; i < FZ_SPACES; i++)
		fz_space_close(f, &f->sp[i], 1);
}

/* Drop root for worker @id: uid FZ_UID0 or FZ_UID0 + 1, the node's group. */
static int fz_drop(int id, gid_t dev_gid)
{
	uid_t uid = FZ_UID0 + (uid_t)(id & 1);
	gid_t gid = dev_gid ? dev_gid : uid;

	if (setgroups(1, &gid) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return -1;
	return 0;
}

struct fz_opts {
	uint64_t seed;
	long seconds;
	int workers;
	int avoid;
	int verbose;
};

/* "known", or a comma list of "ranges", "detach", "pins" */
static int fz_avoid(const char *v)
{
	int m = 0;

	if (!strcmp(v, "known"))
		return FZ_AVOID_KNOWN;
	m |= strstr(v, "ranges") ? FZ_AVOID_RANGES : 0;
	m |= strstr(v, "detach") ? FZ_AVOID_DETACH : 0;
	m |= strstr(v, "pins") ? FZ_AVOID_PINS : 0;
	return m ? m : -1;
}

static int fz_parse(int argc, char **argv, struct fz_opts *o)
{
	const char *e;

	o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
	o->seconds = 60;
	o->workers = 4;
	if ((e = getenv("FUZZ_SEED")) && *e)
		o->seed = strtoull(e, NULL, 0);
	if ((e = getenv("FUZZ_SECONDS")) && *e)
		o->seconds = atol(e);
	if ((e = getenv("FUZZ_WORKERS")) && *e)
		o->workers = atoi(e);
	if ((e = getenv("FUZZ_AVOID")) && *e && (o->avoid = fz_avoid(e)) < 0)
		return -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--verbose")) {
			o->verbose = 1;
			continue;
		}
		if (!v)
			return -1;
		if (!strcmp(a, "--seed"))
			o->seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--seconds"))
			o->seconds = atol(v);
		else if (!strcmp(a, "--workers"))
			o->workers = atoi(v);
		else if (!strcmp(a, "--avoid") && fz_avoid(v) >= 0)
			o->avoid = fz_avoid(v);
		else
			return -1;
		i++;
	}
	return o->workers < 1 || o->workers > 32 || o->seconds < 1 ? -1 : 0;
}

/* Wait for every child, SIGKILL after @grace seconds; returns those left. */
static int fz_reap_all(pid_t *pids, int n, double grace)
{
	double end = fz_now() + grace;
	int left = n, killed = 0;

	while (left) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p > 0) {
			for (int i = 0; i < n; i++)
				if (pids[i] == p) {
					pids[i] = 0;
					left--;
					if (!WIFEXITED(st) || WEXITSTATUS(st))
						ktap_diag("worker %d ended with status %#x", i, st);
				}
			continue;
		}
		if (p < 0 && errno == ECHILD)
			break;
		if (fz_now() > end) {
			if (killed)
				break;
			for (int i = 0; i < n; i++)
				if (pids[i]) {
					ktap_diag("worker %d did not stop in %.0f s: SIGKILL", i, grace);
					kill(pids[i], SIGKILL);
				}
			killed = 1;
			end = fz_now() + 30;
		}
		fz_sleep_us(20000);
	}
	return left;
}

int main(int argc, char **argv)
{
	struct fz_opts o = { 0 };
	struct fz_shared *sh;
	struct cxl_kv_info info;
	struct stat st;
	pid_t pids[33];
	gid_t dev_gid = 0;
	int ctl, dio, left, nleft = -1;
	double t0, secs;
	unsigned long long calls;
	char avoid[32];

	if (fz_parse(argc, argv, &o)) {
		fprintf(stderr, "usage: kv_fuzz [--seed N] [--seconds N] [--workers 1..32] [--avoid known|ranges,detach,pins] [--verbose]\n");
		return 2;
	}
	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	if (geteuid())
		return ktap_skip_all("needs root (ATTACH, and setresuid for the workers)");
	snprintf(avoid, sizeof(avoid), "%s%s%s%s",
		 o.avoid == FZ_AVOID_KNOWN ? "known" : "",
		 o.avoid != FZ_AVOID_KNOWN && (o.avoid & FZ_AVOID_RANGES) ? "ranges," : "",
		 o.avoid != FZ_AVOID_KNOWN && (o.avoid & FZ_AVOID_DETACH) ? "detach," : "",
		 o.avoid != FZ_AVOID_KNOWN && (o.avoid & FZ_AVOID_PINS) ? "pins," : "");
	ktap_diag("kv_fuzz: seed %llu, %ld s, %d workers + admin, avoid '%s' (reproduce: make fuzz SEED=%llu FUZZ_SECONDS=%ld FUZZ_AVOID=%s TOPO=%s)",
		  (unsigned long long)o.seed, o.seconds, o.workers, avoid,
		  (unsigned long long)o.seed, o.seconds, avoid,
		  guest_env("CXLKV_TOPO", "nvdimm"));
	/*
	 * The node: world-accessible (0666) as it is, or group-accessible;
	 * then the workers join its group (one of our own if it has none).
	 */
	if (stat("/dev/cxl_kv", &st))
		return ktap_skip_all("cannot stat /dev/cxl_kv");
	if ((st.st_mode & 0006) != 0006) {
		if (!st.st_gid && chown("/dev/cxl_kv", 0, FZ_GID) == 0)
			st.st_gid = FZ_GID;
		chmod("/dev/cxl_kv", (st.st_mode & 07777) | 0060);
		dev_gid = st.st_gid;
	}
	ktap_diag("/dev/cxl_kv mode %04o gid %u: workers as uids %d/%d%s",
		  st.st_mode & 07777, (unsigned int)st.st_gid, FZ_UID0, FZ_UID0 + 1,
		  dev_gid ? " in the node's group" : "");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return ktap_skip_all("no shared memory");
	memset(sh, 0, sizeof(*sh));
	/* O_DIRECT scratch: the second NVMe (the tier set uses the first) */
	dio = open(kv_nvme2(), O_RDWR | O_DIRECT | O_CLOEXEC);
	if (dio < 0)
		ktap_diag("no O_DIRECT scratch device %s: %s", kv_nvme2(), strerror(errno));
	kv_detach_quiet(ctl);
	{
		struct fz a = { 0 };
		char why[256] = "";
		int r;

		fz_init(&a, sh, o.seed, 0);
		a.ctl = ctl;
		if (fz_attach(&a))
			return ktap_skip_all("ATTACH of the rig's tiers failed");
		ktap_plan(4);
		r = fz_oracle_selftest(&a, why, sizeof(why));
		ktap_result(KTAP_CHECK(!r, "%s", why), "fuzz_oracle_populate_write");
	}
	atomic_store(&sh->attached, 1);
	sh->workers = o.workers;
	t0 = fz_now();
	for (int i = 0; i <= o.workers; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			ktap_diag("fork: %s", strerror(errno));
			atomic_store(&sh->stop, 1);
			o.workers = i - 1;
			break;
		}
		if (!pids[i]) {
			static struct fz f;

			if (fz_init(&f, sh, o.seed, i))
				_exit(3);
			f.ctl = ctl;
			f.dio_fd = dio;
			f.avoid = o.avoid;
			f.verbose = o.verbose;
			if (i == 0) {
				fz_admin(&f);
				_exit(0);
			}
			/* the workers open the node themselves, as users */
			if (fz_drop(i, dev_gid))
				_exit(5);
			f.ctl = kv_open_ctl();
			if (f.ctl < 0) {
				fz_fail(&f, "uid %d cannot open /dev/cxl_kv: %s",
					(int)getuid(), strerror(errno));
				_exit(6);
			}
			fz_worker(&f);
			_exit(0);
		}
	}
	while (fz_now() - t0 < o.seconds && !atomic_load(&sh->stop))
		fz_sleep_us(200000);
	atomic_store(&sh->stop, 1);
	left = fz_reap_all(pids, o.workers + 1, 60);
	secs = fz_now() - t0;
	calls = atomic_load(&sh->calls);

	ktap_result(KTAP_CHECK(!atomic_load(&sh->mismatches), "%llu failures, the first: %s",
			       (unsigned long long)atomic_load(&sh->mismatches), sh->fail),
		    "fuzz_no_mismatch");
	ktap_result(KTAP_CHECK(!left, "%d processes did not end", left), "fuzz_processes_ended");
	/* every process is gone: the module must hold nothing */
	if (!left) {
		for (int i = 0; i < 50; i++) {
			if (kv_info(ctl, &info))
				break;
			nleft = (int)info.nr_spaces;
			if (!info.attached || (!nleft && !info.warm_pages && !info.cold_used))
				break;
			fz_sleep_us(100000);
		}
	}
	ktap_result(KTAP_CHECK(!left && (!info.attached ||
				 (!info.nr_spaces && !info.warm_pages && !info.cold_used)),
			       "spaces %u warm %llu cold slots %llu", info.nr_spaces,
			       (unsigned long long)info.warm_pages,
			       (unsigned long long)info.cold_used),
		    "fuzz_nothing_left");
	kv_detach_quiet(ctl);
	ktap_diag("kv_fuzz: %llu calls in %.1f s (%.0f calls/s): %llu cxl_kv commands (%llu ok, %llu by uring_cmd), %llu pages written, %llu read back and checked (%llu of a lossy space as the codec decodes them, %llu of them re-encoded after MADV_POPULATE_WRITE, which hit %llu lossy pages; %llu writes raced a demotion, %llu left neither version nor round trip), %llu SIGBUS, %llu children killed, %llu DETACH won",
		  calls, secs, calls / secs, (unsigned long long)atomic_load(&sh->cmds),
		  (unsigned long long)atomic_load(&sh->cmds_ok),
		  (unsigned long long)atomic_load(&sh->uring_cmds),
		  (unsigned long long)atomic_load(&sh->pages_written),
		  (unsigned long long)atomic_load(&sh->pages_checked),
		  (unsigned long long)atomic_load(&sh->pages_decoded),
		  (unsigned long long)atomic_load(&sh->pages_requantized),
		  (unsigned long long)atomic_load(&sh->populated),
		  (unsigned long long)atomic_load(&sh->writes_raced),
		  (unsigned long long)atomic_load(&sh->writes_mixed),
		  (unsigned long long)atomic_load(&sh->sigbus),
		  (unsigned long long)atomic_load(&sh->kills),
		  (unsigned long long)atomic_load(&sh->detach_ok));
	printf("fuzz-summary: seed=%llu seconds=%.0f calls=%llu calls_per_s=%.0f cmds=%llu uring=%llu mismatches=%llu\n",
	       (unsigned long long)o.seed, secs, calls, calls / secs,
	       (unsigned long long)atomic_load(&sh->cmds),
	       (unsigned long long)atomic_load(&sh->uring_cmds),
	       (unsigned long long)atomic_load(&sh->mismatches));
	return ktap_finish();
}
