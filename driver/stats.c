// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - counters (per space and global) and the global sysfs files.
 *
 * /sys/class/misc/cxl_kv/ holds three read-only files, one line each, with
 * fixed columns designed once (append-only: new columns go at the end):
 *
 *   stats         warm_pages cold_pages faults_zero faults_warm faults_cold
 *                 promotions demotions clean_drops wb_aborts prefetch_issued
 *                 prefetch_used nvme_read_bytes nvme_write_bytes io_errors
 *                 alloc_waits alloc_fails hints gup_kept
 *   latency_hist  16 counts: cold-fault-to-resident latency, bucket i =
 *                 [2^i, 2^(i+1)) microseconds
 *   tiers         attached budget_pages high_wmark low_wmark warm_pages
 *                 cold_slots cold_used nr_spaces
 */
#include <linux/device.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/sysfs.h>

#include "kv.h"

struct kv_stats kv_gstats;

/**
 * kv_stats_record_latency() - count one cold fault's latency.
 * @sp: space.
 * @ns: fault-to-resident time in nanoseconds.
 */
void kv_stats_record_latency(struct kv_space *sp, u64 ns)
{
	u64 us = div_u64(ns, NSEC_PER_USEC);
	u32 b = us < 2 ? 0 : ilog2(us);

	if (b >= CXL_KV_STATS_HIST)
		b = CXL_KV_STATS_HIST - 1;
	kv_stat_inc(sp, lat_hist[b]);
}

/**
 * kv_stats_fill() - copy counters into the UAPI struct.
 * @s: counters.
 * @out: destination (flags, pad and reserved untouched).
 */
void kv_stats_fill(const struct kv_stats *s, struct cxl_kv_stats *out)
{
	int i;
	s64 v;

	v = atomic64_read(&s->warm_pages);
	out->warm_pages = v > 0 ? v : 0;
	v = atomic64_read(&s->cold_pages);
	out->cold_pages = v > 0 ? v : 0;
	out->faults_zero = atomic64_read(&s->faults_zero);
	out->faults_warm = atomic64_read(&s->faults_warm);
	out->faults_cold = atomic64_read(&s->faults_cold);
	out->promotions = atomic64_read(&s->promotions);
	out->demotions = atomic64_read(&s->demotions);
	out->clean_drops = atomic64_read(&s->clean_drops);
	out->wb_aborts = atomic64_read(&s->wb_aborts);
	out->prefetch_issued = atomic64_read(&s->prefetch_issued);
	out->prefetch_used = atomic64_read(&s->prefetch_used);
	out->nvme_read_bytes = atomic64_read(&s->nvme_read_bytes);
	out->nvme_write_bytes = atomic64_read(&s->nvme_write_bytes);
	out->io_errors = atomic64_read(&s->io_errors);
	out->alloc_waits = atomic64_read(&s->alloc_waits);
	out->alloc_fails = atomic64_read(&s->alloc_fails);
	out->hints = atomic64_read(&s->hints);
	for (i = 0; i < CXL_KV_STATS_HIST; i++)
		out->lat_hist[i] = atomic64_read(&s->lat_hist[i]);
	out->gup_kept = atomic64_read(&s->gup_kept);
}

static ssize_t stats_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct cxl_kv_stats s = {};

	kv_stats_fill(&kv_gstats, &s);
	return sysfs_emit(buf,
		"%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu\n",
		s.warm_pages, s.cold_pages, s.faults_zero, s.faults_warm,
		s.faults_cold, s.promotions, s.demotions, s.clean_drops,
		s.wb_aborts, s.prefetch_issued, s.prefetch_used,
		s.nvme_read_bytes, s.nvme_write_bytes, s.io_errors,
		s.alloc_waits, s.alloc_fails, s.hints, s.gup_kept);
}
static DEVICE_ATTR_RO(stats);

static ssize_t latency_hist_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	int i, len = 0;

	for (i = 0; i < CXL_KV_STATS_HIST; i++)
		len += sysfs_emit_at(buf, len, "%s%lld", i ? " " : "",
				     (long long)atomic64_read(&kv_gstats.lat_hist[i]));
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}
static DEVICE_ATTR_RO(latency_hist);

static ssize_t tiers_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct cxl_kv_info info = {};

	mutex_lock(&kv_ctl_lock);
	kv_info(&info);
	mutex_unlock(&kv_ctl_lock);
	return sysfs_emit(buf, "%u %llu %llu %llu %llu %llu %llu %u\n",
			  info.attached, info.budget_pages, info.high_wmark,
			  info.low_wmark, info.warm_pages, info.cold_slots,
			  info.cold_used, info.nr_spaces);
}
static DEVICE_ATTR_RO(tiers);

static struct attribute *kv_sysfs_attrs[] = {
	&dev_attr_stats.attr,
	&dev_attr_latency_hist.attr,
	&dev_attr_tiers.attr,
	NULL,
};

static const struct attribute_group kv_sysfs_group = {
	.attrs = kv_sysfs_attrs,
};

const struct attribute_group *kv_sysfs_groups[] = {
	&kv_sysfs_group,
	NULL,
};
