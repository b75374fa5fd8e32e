// SPDX-License-Identifier: GPL-2.0
/*
 * ksft_fail_demo - deliberate failures that prove the rig reports them.
 * Run on demand only (suite "fail"), never in the default run.
 *
 *   ksft_fail_demo case   one failing case: the program exits 1
 *   ksft_fail_demo warn   every case passes, but a kernel WARNING appears
 *                         in the log: the rig's dmesg scan must fail it
 *
 * The WARNING is written through /dev/kmsg in the shape a WARN_ON prints
 * ("WARNING: CPU: n PID: n at ..."): what the rig scans is the kernel log,
 * and this puts a line there without a test-only hook in the module.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ktap.h"

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "case";

	ktap_plan(1);
	if (!strcmp(mode, "warn")) {
		static const char msg[] =
			"<4>WARNING: CPU: 0 PID: 1 at tests/kselftest/ksft_fail_demo.c:1 deliberate\n";
		int fd = open("/dev/kmsg", O_WRONLY);
		int ok = fd >= 0 && write(fd, msg, sizeof(msg) - 1) > 0;

		if (fd >= 0)
			close(fd);
		ktap_result(ok, "wrote a WARNING line to the kernel log");
	} else {
		ktap_result(0, "a case that fails on purpose");
	}
	return ktap_finish();
}
