// SPDX-License-Identifier: GPL-2.0
/*
 * bench-mooncake - a guest program carrying the first requests of the
 * Mooncake FAST'25 conversation trace (Apache-2.0), which lives outside the
 * project (../shared/data): writes them to /tmp, attaches the rig's tiers
 * with cxl-kv, runs cxl-kv-bench serve on them, detaches.  Built with the
 * trace's head embedded (.incbin) when the trace exists at build time; else
 * it skips (exit 4).  Extra arguments go to cxl-kv-bench serve.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#ifndef MOONCAKE_FILE
#error "MOONCAKE_FILE: the embedded trace head (may be empty)"
#endif

__asm__(".section .rodata\n"
	".global mooncake_data\n"
	"mooncake_data:\n"
	".incbin \"" MOONCAKE_FILE "\"\n"
	".global mooncake_end\n"
	"mooncake_end:\n"
	".byte 0\n"
	".previous\n");
extern const char mooncake_data[], mooncake_end[];

static int sh(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv)
{
	const char *bin = getenv("CXLKV_BIN") ? getenv("CXLKV_BIN") : "/opt/cxlkv/bin";
	size_t len = (size_t)(mooncake_end - mooncake_data);
	char cmd[2048];
	FILE *f;
	int rc, n;

	if (!len) {
		printf("KTAP version 1\n1..0 # SKIP no Mooncake trace when this was built\n");
		return 4;
	}
	f = fopen("/tmp/mooncake.jsonl", "w");
	if (!f || fwrite(mooncake_data, 1, len, f) != len || fclose(f)) {
		perror("bench-mooncake: /tmp/mooncake.jsonl");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "%s/cxl-kv attach --budget 16M", bin);
	if (sh(cmd))
		return 1;
	n = snprintf(cmd, sizeof(cmd), "%s/cxl-kv-bench serve /tmp/mooncake.jsonl "
		     "--layers 2 --kv-heads 2 --slots 2048 --progress 20", bin);
	for (int i = 1; i < argc && n > 0 && (size_t)n < sizeof(cmd); i++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " %s", argv[i]);
	fflush(stdout);
	rc = sh(cmd);
	snprintf(cmd, sizeof(cmd), "%s/cxl-kv detach", bin);
	sh(cmd);
	return rc;
}
