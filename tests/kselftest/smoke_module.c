// SPDX-License-Identifier: GPL-2.0
/*
 * smoke_module - cxl_kv.ko loads, makes its control device, and unloads
 * cleanly, twice over, leaving no kernel splat behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktap.h"
#include "guest_util.h"

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int is_chardev(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

int main(void)
{
	int cycle, fd;

	ktap_plan(10);
	if (exists("/sys/module/cxl_kv"))
		(void)system("rmmod cxl_kv");

	for (cycle = 0; cycle < 2; cycle++) {
		ktap_result(KTAP_CHECK(system("modprobe cxl_kv") == 0,
				       "modprobe failed"), "modprobe cxl_kv");
		ktap_result(KTAP_CHECK(is_chardev("/dev/cxl_kv"),
				       "no /dev/cxl_kv character device"),
			    "control device present");
		ktap_result(KTAP_CHECK(system("rmmod cxl_kv") == 0,
				       "rmmod failed"), "rmmod cxl_kv");
		if (cycle == 0) {
			ktap_result(KTAP_CHECK(!exists("/sys/module/cxl_kv") &&
					       !exists("/dev/cxl_kv"),
					       "module or device left behind"),
				    "nothing left after unload");
		}
	}

	/* The control device pins the module while it is open. */
	(void)system("modprobe cxl_kv");
	fd = open("/dev/cxl_kv", O_RDWR | O_CLOEXEC);
	ktap_result(KTAP_CHECK(fd >= 0 && system("rmmod cxl_kv 2>/dev/null") != 0,
			       "fd=%d errno=%d: unload succeeded with an open fd",
			       fd, errno), "unload refused while the device is open");
	if (fd >= 0)
		close(fd);
	ktap_result(KTAP_CHECK(system("rmmod cxl_kv") == 0, "rmmod failed"),
		    "unload after close");
	ktap_result(KTAP_CHECK(kernel_log_splats() == 0, "see the kernel lines above"),
		    "kernel log clean apart from the out-of-tree taint");
	return ktap_finish();
}
