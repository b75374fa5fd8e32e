// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * params.c - struct cxl_kv_params fields by name, for the CLI and tools.
 * Names are the UAPI field names ("alpha_q16", "pf_window", ...).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "private.h"

static const struct {
	const char *name;
	uint64_t bit;
	size_t off;
} params[] = {
	{ "alpha_q16", CXL_KV_PARAM_ALPHA, offsetof(struct cxl_kv_params, alpha_q16) },
	{ "tau_steps", CXL_KV_PARAM_TAU, offsetof(struct cxl_kv_params, tau_steps) },
	{ "score_shift", CXL_KV_PARAM_SCORE_SHIFT, offsetof(struct cxl_kv_params, score_shift) },
	{ "sink_tokens", CXL_KV_PARAM_SINK_TOKENS, offsetof(struct cxl_kv_params, sink_tokens) },
	{ "recent_tokens", CXL_KV_PARAM_RECENT_TOKENS, offsetof(struct cxl_kv_params, recent_tokens) },
	{ "pf_window", CXL_KV_PARAM_PF_WINDOW, offsetof(struct cxl_kv_params, pf_window) },
	{ "pf_window_max", CXL_KV_PARAM_PF_WINDOW_MAX, offsetof(struct cxl_kv_params, pf_window_max) },
	{ "pf_epoch", CXL_KV_PARAM_PF_EPOCH, offsetof(struct cxl_kv_params, pf_epoch) },
	{ "phase_window", CXL_KV_PARAM_PHASE_WINDOW, offsetof(struct cxl_kv_params, phase_window) },
	{ "phase_enter", CXL_KV_PARAM_PHASE_ENTER, offsetof(struct cxl_kv_params, phase_enter) },
	{ "phase_exit", CXL_KV_PARAM_PHASE_EXIT, offsetof(struct cxl_kv_params, phase_exit) },
	{ "scan_limit", CXL_KV_PARAM_SCAN_LIMIT, offsetof(struct cxl_kv_params, scan_limit) },
	{ "policy_flags", CXL_KV_PARAM_POLICY_FLAGS, offsetof(struct cxl_kv_params, policy_flags) },
};

#define NPARAMS (sizeof(params) / sizeof(params[0]))

_Static_assert(NPARAMS == 13 && CXL_KV_PARAM_ALL == (1ULL << 13) - 1,
	       "every UAPI parameter has a name");

static int find_bit(uint64_t bit)
{
	for (size_t i = 0; i < NPARAMS; i++)
		if (params[i].bit == bit)
			return (int)i;
	return -1;
}

/**
 * cxl_kv_param_lookup() - mask bit of a parameter name
 * @name: UAPI field name, e.g. "pf_window"
 * @bit: receives its CXL_KV_PARAM_* bit
 *
 * Return: 0, -EINVAL (NULL), -ENOENT (no such parameter).
 */
int cxl_kv_param_lookup(const char *name, uint64_t *bit)
{
	if (!name || !bit)
		return -EINVAL;
	for (size_t i = 0; i < NPARAMS; i++) {
		if (!strcmp(params[i].name, name)) {
			*bit = params[i].bit;
			return 0;
		}
	}
	return -ENOENT;
}

/**
 * cxl_kv_param_name() - name of a parameter bit
 * @bit: one CXL_KV_PARAM_* bit
 *
 * Return: the name, or NULL when @bit is not exactly one known bit.
 */
const char *cxl_kv_param_name(uint64_t bit)
{
	int i = find_bit(bit);

	return i < 0 ? NULL : params[i].name;
}

/**
 * cxl_kv_param_get_value() - read one field of a parameter set
 * @p: parameters
 * @bit: one CXL_KV_PARAM_* bit
 * @value: receives the field
 *
 * Return: 0, -EINVAL.
 */
int cxl_kv_param_get_value(const struct cxl_kv_params *p, uint64_t bit,
			   uint32_t *value)
{
	int i = find_bit(bit);

	if (!p || !value || i < 0)
		return -EINVAL;
	memcpy(value, (const char *)p + params[i].off, sizeof(*value));
	return 0;
}

/**
 * cxl_kv_param_set_value() - set one field and select it in the mask
 * @p: parameters (for cxl_kv_params_set())
 * @bit: one CXL_KV_PARAM_* bit
 * @value: new value (validated by the module)
 *
 * Return: 0, -EINVAL.
 */
int cxl_kv_param_set_value(struct cxl_kv_params *p, uint64_t bit,
			   uint32_t value)
{
	int i = find_bit(bit);

	if (!p || i < 0)
		return -EINVAL;
	memcpy((char *)p + params[i].off, &value, sizeof(value));
	p->mask |= bit;
	return 0;
}
