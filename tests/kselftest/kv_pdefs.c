// SPDX-License-Identifier: GPL-2.0
/*
 * kv_pdefs - the module parameter default_policy
 * (/sys/module/cxl_kv/parameters/default_policy): the policy a new space
 * starts from.
 *
 * shows       it reads every knob, "alpha_q16=16384 ... policy_flags=15", and
 *             a space made now has exactly those (PARAMS_GET).
 * set         "tau_steps=777 sink_tokens=8,recent_tokens=32": the named knobs
 *             change, the others keep their value; a space made before keeps
 *             its params, one made after has the new ones; PARAMS_SET on it
 *             still overrides (and does not change the defaults).
 * refused     unknown name, no '=', a value above 2^32-1, not a number, a
 *             name twice, only blanks, alpha 0, phase_exit >= phase_enter, an
 *             unknown flag, 2 KiB of text: each write fails with EINVAL and
 *             the parameter reads as before.
 * non-root    uid 1001 cannot open it for writing (EACCES).
 * atomic      a child swaps two complete sets 400 times while 200 spaces are
 *             made: each space has one set or the other, never a mix.
 * restore     writing back what it first showed restores it.
 * load        with nothing open: modprobe cxl_kv
 *             default_policy=tau_steps=3000,sink_tokens=9 (as modprobe.d's
 *             options line gives it) loads with those two set and the rest
 *             as before (commas: busybox's modprobe splits a quoted value
 *             with a blank, the kernel then sees a stray quote); tau_steps=0 and
 *             an unknown name make the load fail (no /dev/cxl_kv); a plain
 *             modprobe is back at what it first showed.
 * The old module had no such parameter: every case failed on it (checked:
 * with a26be91's module in the guest kv_pdefs gave 0 passed, 11 failed,
 * before the two load cases were added).
 */
#include <signal.h>
#include <sys/wait.h>

#include "kv_test.h"
#include "lib_util.h"	/* T() */

#define PARAM	"/sys/module/cxl_kv/parameters/default_policy"

static char orig[2048];

static int rd(char *buf, size_t len)
{
	int fd = open(PARAM, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* write(2) of @s: 0 or -errno */
static int wr(const char *s)
{
	int fd = open(PARAM, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* "name=" in the parameter's text -> its value, or -1 */
static long val(const char *text, const char *name)
{
	char key[40];
	const char *p;

	snprintf(key, sizeof(key), " %s=", name);
	p = strstr(text, key);
	if (!p && !strncmp(text, key + 1, strlen(key + 1)))
		p = text - 1;
	return p ? strtol(p + strlen(key), NULL, 0) : -1;
}

static int get_params(int fd, struct cxl_kv_params *p)
{
	memset(p, 0, sizeof(*p));
	return kv_ioctl(fd, CXL_KV_PARAMS_GET, p);
}

/* A space's params are what @text says, every knob. */
static int params_are(const struct cxl_kv_params *p, const char *text)
{
	return p->alpha_q16 == val(text, "alpha_q16") &&
	       p->tau_steps == val(text, "tau_steps") &&
	       p->score_shift == val(text, "score_shift") &&
	       p->sink_tokens == val(text, "sink_tokens") &&
	       p->recent_tokens == val(text, "recent_tokens") &&
	       p->pf_window == val(text, "pf_window") &&
	       p->pf_window_max == val(text, "pf_window_max") &&
	       p->pf_epoch == val(text, "pf_epoch") &&
	       p->phase_window == val(text, "phase_window") &&
	       p->phase_enter == val(text, "phase_enter") &&
	       p->phase_exit == val(text, "phase_exit") &&
	       p->scan_limit == val(text, "scan_limit") &&
	       p->policy_flags == val(text, "policy_flags");
}

static int mk_space(int ctl)
{
	struct cxl_kv_space_create c;

	kv_geom(&c, 1, 1, 128, 64);
	return kv_space(ctl, &c);
}

int main(void)
{
	static const char *const bad[] = {
		"bogus=1", "tau_steps", "tau_steps=4294967296", "tau_steps=ten",
		"tau_steps=5 tau_steps=6", " ", "\n", "alpha_q16=0",
		"phase_enter=4 phase_exit=4", "policy_flags=0x100",
		"pf_window=33", "tau_steps=5 reserved=1",
	};
	char now[2048], after[2048], big[2100];
	struct cxl_kv_params p, q;
	int ctl, a, b, ret, nbad = 0, mixed = 0, made = 0;
	pid_t pid;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	ktap_plan(13);
	kv_detach_quiet(ctl);
	ret = kv_attach(ctl, 1024, 1, 64 << 20);
	if (ret)
		return ktap_skip_all("attach failed");

	ret = rd(orig, sizeof(orig));
	a = mk_space(ctl);
	T("shows", !ret && val(orig, "alpha_q16") > 0 && val(orig, "policy_flags") >= 0 &&
	  val(orig, "scan_limit") > 0 && a >= 0 && !get_params(a, &p) &&
	  params_are(&p, orig), "ret %d space %d text '%s'", ret, a, orig);

	ret = wr("tau_steps=777 sink_tokens=8,recent_tokens=32\n");
	rd(now, sizeof(now));
	T("set_named_only", !ret && val(now, "tau_steps") == 777 &&
	  val(now, "sink_tokens") == 8 && val(now, "recent_tokens") == 32 &&
	  val(now, "alpha_q16") == val(orig, "alpha_q16") &&
	  val(now, "scan_limit") == val(orig, "scan_limit") &&
	  val(now, "policy_flags") == val(orig, "policy_flags"),
	  "ret %d now '%s'", ret, now);
	T("space_before_keeps", !get_params(a, &p) && params_are(&p, orig),
	  "tau %u sink %u", p.tau_steps, p.sink_tokens);
	b = mk_space(ctl);
	T("space_after_gets", b >= 0 && !get_params(b, &p) && params_are(&p, now) &&
	  p.tau_steps == 777 && p.sink_tokens == 8 && p.recent_tokens == 32,
	  "space %d tau %u sink %u recent %u", b, p.tau_steps, p.sink_tokens,
	  p.recent_tokens);
	memset(&q, 0, sizeof(q));
	q.mask = CXL_KV_PARAM_TAU;
	q.tau_steps = 555;
	ret = kv_ioctl(b, CXL_KV_PARAMS_SET, &q);
	rd(after, sizeof(after));
	T("params_set_overrides", !ret && !get_params(b, &p) && p.tau_steps == 555 &&
	  p.sink_tokens == 8 && !strcmp(after, now), "ret %d tau %u", ret,
	  p.tau_steps);
	close(a);
	close(b);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = wr(bad[i]);
		rd(after, sizeof(after));
		if (ret != -EINVAL || strcmp(after, now)) {
			ktap_diag("'%s': %d, now '%s'", bad[i], ret, after);
			nbad++;
		}
	}
	T("refused_unchanged", !nbad, "%d of %zu not refused cleanly", nbad,
	  sizeof(bad) / sizeof(bad[0]));
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "tau_steps=9", 11);
	ret = wr(big);
	rd(after, sizeof(after));
	T("too_long_refused", ret == -EINVAL && !strcmp(after, now), "ret %d", ret);
	/* and a good write after them all still works */
	ret = wr("tau_steps=778");
	rd(after, sizeof(after));
	T("good_after_bad", !ret && val(after, "tau_steps") == 778, "ret %d", ret);

	pid = fork();
	if (pid == 0) {
		if (setgid(1001) || setuid(1001))
			_exit(2);
		_exit(open(PARAM, O_WRONLY) < 0 && errno == EACCES ? 0 : 1);
	}
	T("non_root_refused", pid > 0 && waitpid(pid, &ret, 0) == pid &&
	  WIFEXITED(ret) && WEXITSTATUS(ret) == 0, "status %#x", ret);

	/* atomic: complete set A or complete set B, never a mix */
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 400; i++)
			if (wr(i & 1 ? "alpha_q16=1000 tau_steps=100 sink_tokens=1 scan_limit=10" :
				       "alpha_q16=2000 tau_steps=200 sink_tokens=2 scan_limit=20"))
				_exit(1);
		_exit(0);
	}
	for (int i = 0; i < 200 && pid > 0; i++) {
		int fd = mk_space(ctl);

		if (fd < 0 || get_params(fd, &p)) {
			mixed++;
		} else {
			uint32_t k = p.alpha_q16 / 1000;

			made++;
			if ((k == 1 || k == 2) &&
			    (p.tau_steps != 100 * k || p.sink_tokens != k ||
			     p.scan_limit != 10 * k))
				mixed++;
		}
		if (fd >= 0)
			close(fd);
	}
	T("atomic_swap", pid > 0 && waitpid(pid, &ret, 0) == pid && WIFEXITED(ret) &&
	  !WEXITSTATUS(ret) && !mixed && made == 200, "mixed %d made %d status %#x",
	  mixed, made, ret);

	ret = wr(orig);
	rd(after, sizeof(after));
	T("restore", !ret && !strcmp(after, orig), "ret %d '%s'", ret, after);
	kv_detach_quiet(ctl);
	close(ctl);

	{
		static const char *const bad_load[] = {
			"default_policy=tau_steps=0", "default_policy=bogus=1",
		};
		int ok = 1, r;

		r = system("rmmod cxl_kv && modprobe cxl_kv "
			   "default_policy=tau_steps=3000,sink_tokens=9");
		rd(now, sizeof(now));
		ok &= !r && val(now, "tau_steps") == 3000 && val(now, "sink_tokens") == 9 &&
		      val(now, "alpha_q16") == val(orig, "alpha_q16") &&
		      val(now, "recent_tokens") == val(orig, "recent_tokens");
		if (!ok)
			ktap_diag("commas: %d '%s'", r, now);
		for (size_t i = 0; i < 2; i++) {
			char cmd[128];

			snprintf(cmd, sizeof(cmd), "rmmod cxl_kv; modprobe cxl_kv %s "
				 "2>/dev/null", bad_load[i]);
			r = system(cmd);
			if (!r || !access("/dev/cxl_kv", F_OK)) {
				ktap_diag("'%s' loaded: %d", bad_load[i], r);
				ok = 0;
			}
		}
		T("load_option", ok, "-");
		r = system("modprobe cxl_kv");
		rd(now, sizeof(now));
		T("load_builtin", !r && !access("/dev/cxl_kv", F_OK) &&
		  !strcmp(now, orig), "modprobe %d '%s'", r, now);
	}
	return ktap_finish();
}
