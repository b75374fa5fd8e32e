// SPDX-License-Identifier: GPL-2.0
/*
 * kv_list - LIST (control device 0x06, feature bit 8): an unprivileged
 * owner lists its own spaces and reads their counters; root lists all.
 *
 * args: flags, pad, reserved, room beyond CXL_KV_MAX_LIST and room without
 *	an address are -EINVAL; an unwritable address -EFAULT; no tier set
 *	attached: nothing (count 0, total 0).
 * owner: root makes space R (2 pages written); uid 1001, a member of the
 *	device's group (what the udev rule does with cxl-kv), makes space U
 *	(1 page written) and LISTs: exactly U (its id as SPACE_INFO says, uid
 *	1001, its geometry, warm_pages and faults as SPACE_STATS says), not R.
 *	'cxl-kv spaces' run as uid 1001 prints the same one space;
 *	'cxl-kv stats --id U' as uid 1001 prints U's counters (warm_pages and
 *	faults_zero as SPACE_STATS says) and exits 0, '--id R' exits 1 (not
 *	its space).  The CLI before --id rejected it (exit 2): both failed.
 * root: LIST shows R and U with their uids; room 1 gives one entry and
 *	total 2; after U's owner exits, only R.
 * The old module had no LIST (-ENOTTY): every case here failed on it.
 */
#include <grp.h>
#include <sys/wait.h>

#include "kv_test.h"
#include "lib_util.h"	/* lib_run_tool(), T() */

#define KV_GID		2000	/* plays cxl-kv */
#define UID_U		1001

struct shm {
	volatile int ready;	/* child: U made and listed */
	volatile int stop;	/* parent: child may exit */
	int err, n, total, uid_ok, id_ok, geom_ok, stats_ok, cli_ok;
	int cli_stats_ok, cli_other_rc;
	uint64_t u_id, r_id;
	char cli_out[512];
	char stats_out[2048];
};

static struct cxl_kv_list_entry ent[8];

static int do_list(int ctl, struct cxl_kv_list_entry *e, uint32_t count,
		   uint32_t *total)
{
	struct cxl_kv_list l;
	int ret;

	memset(&l, 0, sizeof(l));
	l.count = count;
	l.entries = (uintptr_t)e;
	ret = kv_ioctl(ctl, CXL_KV_LIST, &l);
	if (ret)
		return ret;
	*total = l.total;
	return (int)l.count;
}

static int list_raw(int ctl, struct cxl_kv_list *l)
{
	return kv_ioctl(ctl, CXL_KV_LIST, l);
}

/* The child: uid 1001 in the device's group, one space, LIST, the CLI. */
static void owner(struct shm *sh)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_space_info si;
	struct cxl_kv_stats st;
	gid_t g = KV_GID;
	uint32_t total = 0;
	char cmd[256];
	volatile char *m;
	FILE *p;
	int ctl, fd, n;

	if (setgroups(1, &g) || setresgid(UID_U, UID_U, UID_U) ||
	    setresuid(UID_U, UID_U, UID_U)) {
		sh->err = 1;
		goto out;
	}
	ctl = kv_open_ctl();
	kv_geom(&c, 1, 1, 64, 128);
	fd = ctl < 0 ? -1 : kv_space(ctl, &c);
	if (fd < 0) {
		sh->err = 2;
		goto out;
	}
	m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		sh->err = 3;
		goto out;
	}
	m[0] = 1;
	memset(&si, 0, sizeof(si));
	if (kv_ioctl(fd, CXL_KV_SPACE_INFO, &si) || kv_stats(fd, CXL_KV_SPACE_STATS, &st)) {
		sh->err = 4;
		goto out;
	}
	n = do_list(ctl, ent, 8, &total);
	sh->n = n;
	sh->total = (int)total;
	sh->u_id = si.id;
	if (n == 1) {
		sh->uid_ok = ent[0].uid == UID_U;
		sh->id_ok = ent[0].id == si.id;
		sh->geom_ok = ent[0].info.layers == 1 && ent[0].info.kv_heads == 1 &&
			      ent[0].info.head_dim == 64 &&
			      ent[0].info.max_tokens == 128 &&
			      ent[0].info.mmap_bytes == c.mmap_bytes;
		sh->stats_ok = ent[0].stats.warm_pages == st.warm_pages &&
			       st.warm_pages >= 1 &&
			       ent[0].stats.faults_zero == st.faults_zero &&
			       st.faults_zero >= 1;
	}
	snprintf(cmd, sizeof(cmd), "%s/cxl-kv spaces 2>&1",
		 guest_env("CXLKV_BIN", "/opt/cxlkv/bin"));
	p = popen(cmd, "r");
	if (p) {
		size_t got = fread(sh->cli_out, 1, sizeof(sh->cli_out) - 1, p);
		char want[64];

		sh->cli_out[got] = '\0';
		snprintf(want, sizeof(want), "\"id\": %llu,",
			 (unsigned long long)si.id);
		sh->cli_ok = pclose(p) == 0 && strstr(sh->cli_out, "\"total\": 1,") &&
			     strstr(sh->cli_out, "\"uid\": 1001") &&
			     strstr(sh->cli_out, want);
	}
	/* its counters through 'stats --id' (LIST), not another uid's */
	{
		char args[64], w_id[64], w_warm[64], w_fz[64];

		snprintf(args, sizeof(args), "stats --id %llu",
			 (unsigned long long)si.id);
		snprintf(w_id, sizeof(w_id), "\"id\": %llu,",
			 (unsigned long long)si.id);
		snprintf(w_warm, sizeof(w_warm), "\"warm_pages\": %llu,",
			 (unsigned long long)st.warm_pages);
		snprintf(w_fz, sizeof(w_fz), "\"faults_zero\": %llu,",
			 (unsigned long long)st.faults_zero);
		sh->cli_stats_ok = lib_run_tool("cxl-kv", args, "2>&1",
						sh->stats_out,
						sizeof(sh->stats_out)) == 0 &&
				   strstr(sh->stats_out, w_id) &&
				   strstr(sh->stats_out, "\"uid\": 1001") &&
				   strstr(sh->stats_out, w_warm) &&
				   strstr(sh->stats_out, w_fz);
		snprintf(args, sizeof(args), "stats --id %llu",
			 (unsigned long long)sh->r_id);
		sh->cli_other_rc = lib_run_tool("cxl-kv", args, "2>&1", cmd,
						sizeof(cmd));
	}
out:
	sh->ready = 1;
	while (!sh->stop)
		usleep(10000);
	_exit(0);
}

int main(void)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_space_info si;
	struct cxl_kv_features f;
	struct cxl_kv_list l;
	uint32_t total = 0;
	volatile char *m;
	struct shm *sh;
	int ctl, fd, n, st, seen_r, seen_u;
	pid_t pid;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no module or warm node");
	ktap_plan(12);
	memset(&f, 0, sizeof(f));
	T("feature_bit", !kv_ioctl(ctl, CXL_KV_GET_FEATURES, &f) &&
	  (f.features & CXL_KV_F_LIST), "features %#llx",
	  (unsigned long long)f.features);

	kv_detach_quiet(ctl);
	n = do_list(ctl, ent, 8, &total);
	T("unattached_empty", n == 0 && total == 0, "n %d total %u", n, total);

	if (kv_attach(ctl, 1024, 1, 8ULL << 20))
		return ktap_skip_all("attach failed");
	kv_geom(&c, 2, 2, 128, 256);
	fd = kv_space(ctl, &c);
	m = fd < 0 ? MAP_FAILED :
	    mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		kv_detach_quiet(ctl);
		return ktap_skip_all("space failed");
	}
	m[0] = 1;
	m[KV_PAGE] = 2;
	memset(&si, 0, sizeof(si));
	kv_ioctl(fd, CXL_KV_SPACE_INFO, &si);

	{
		int bad = 0;

		memset(&l, 0, sizeof(l)); l.flags = 1;
		bad |= list_raw(ctl, &l) != -EINVAL;
		memset(&l, 0, sizeof(l)); l.pad = 1;
		bad |= (list_raw(ctl, &l) != -EINVAL) << 1;
		memset(&l, 0, sizeof(l)); l.reserved[3] = 1;
		bad |= (list_raw(ctl, &l) != -EINVAL) << 2;
		memset(&l, 0, sizeof(l)); l.count = CXL_KV_MAX_LIST + 1;
		l.entries = (uintptr_t)ent;
		bad |= (list_raw(ctl, &l) != -EINVAL) << 3;
		memset(&l, 0, sizeof(l)); l.count = 1;
		bad |= (list_raw(ctl, &l) != -EINVAL) << 4;
		memset(&l, 0, sizeof(l)); l.count = 1; l.entries = 8;
		bad |= (list_raw(ctl, &l) != -EFAULT) << 5;
		T("bad_args", !bad, "failed checks %#x", bad);
	}
	memset(&l, 0, sizeof(l));
	T("count_zero_gives_total", !list_raw(ctl, &l) && l.count == 0 &&
	  l.total == 1, "count %u total %u", l.count, l.total);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || chown("/dev/cxl_kv", 0, KV_GID) ||
	    chmod("/dev/cxl_kv", 0660)) {
		kv_detach_quiet(ctl);
		return ktap_skip_all("shm or devnode failed");
	}
	memset(sh, 0, sizeof(*sh));
	sh->r_id = si.id;
	pid = fork();
	if (pid == 0)
		owner(sh);
	for (int i = 0; i < 3000 && !sh->ready; i++)
		usleep(10000);
	T("owner_lists_own_only", sh->ready && !sh->err && sh->n == 1 &&
	  sh->total == 1, "ready %d err %d n %d total %d", sh->ready, sh->err,
	  sh->n, sh->total);
	T("owner_entry_exact", sh->uid_ok && sh->id_ok && sh->geom_ok &&
	  sh->stats_ok, "uid %d id %d geom %d stats %d", sh->uid_ok, sh->id_ok,
	  sh->geom_ok, sh->stats_ok);
	T("owner_cli_spaces", sh->cli_ok, "out %.300s", sh->cli_out);
	T("owner_cli_stats_id", sh->cli_stats_ok && sh->cli_other_rc == 1,
	  "other rc %d out %.600s", sh->cli_other_rc, sh->stats_out);

	n = do_list(ctl, ent, 8, &total);
	seen_r = seen_u = 0;
	for (int i = 0; i < n; i++) {
		seen_r |= ent[i].id == si.id && ent[i].uid == 0 &&
			  ent[i].stats.warm_pages >= 2;
		seen_u |= ent[i].id == sh->u_id && ent[i].uid == UID_U;
	}
	T("root_lists_all", n == 2 && total == 2 && seen_r && seen_u,
	  "n %d total %u r %d u %d", n, total, seen_r, seen_u);
	n = do_list(ctl, ent, 1, &total);
	T("room_short", n == 1 && total == 2, "n %d total %u", n, total);

	sh->stop = 1;
	waitpid(pid, &st, 0);
	/* the child's space is released with its last reference */
	for (int i = 0; i < 500; i++) {
		n = do_list(ctl, ent, 8, &total);
		if (n == 1)
			break;
		usleep(10000);
	}
	T("owner_gone", n == 1 && total == 1 && ent[0].id == si.id,
	  "n %d total %u", n, total);

	munmap((void *)m, c.mmap_bytes);
	close(fd);
	chown("/dev/cxl_kv", 0, 0);
	for (int i = 0; i < 500; i++) {
		n = do_list(ctl, ent, 8, &total);
		if (n == 0)
			break;
		usleep(10000);
	}
	T("none_left", n == 0 && total == 0, "n %d total %u", n, total);
	kv_detach_quiet(ctl);
	close(ctl);
	return ktap_finish();
}
