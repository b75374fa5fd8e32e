// SPDX-License-Identifier: GPL-2.0
/*
 * kvp_text.c - struct kvp_params as text: "name=value name=value ...".
 *
 * The names are struct cxl_kv_params' field names, as `cxl-kv params` and
 * cxl_kv_param_lookup() spell them; the values are the UAPI's integers
 * (alpha_q16 in Q16, tau_steps in steps, policy_flags the
 * CXL_KV_POLICY_F_* bits, ...).  The module's default_policy parameter and
 * `cxl-kv apply` (the `policy` key of /etc/cxl-kv.conf) both read and write
 * this form with these functions.
 */
#include "kvpolicy.h"

static const struct {
	const char *name;
	kvp_u32 off;
} kvp_text_names[] = {
	{ "alpha_q16", __builtin_offsetof(struct kvp_params, alpha_q16) },
	{ "tau_steps", __builtin_offsetof(struct kvp_params, tau_steps) },
	{ "score_shift", __builtin_offsetof(struct kvp_params, score_shift) },
	{ "sink_tokens", __builtin_offsetof(struct kvp_params, sink_tokens) },
	{ "recent_tokens", __builtin_offsetof(struct kvp_params, recent_tokens) },
	{ "pf_window", __builtin_offsetof(struct kvp_params, pf_window) },
	{ "pf_window_max", __builtin_offsetof(struct kvp_params, pf_window_max) },
	{ "pf_epoch", __builtin_offsetof(struct kvp_params, pf_epoch) },
	{ "phase_window", __builtin_offsetof(struct kvp_params, phase_window) },
	{ "phase_enter", __builtin_offsetof(struct kvp_params, phase_enter) },
	{ "phase_exit", __builtin_offsetof(struct kvp_params, phase_exit) },
	{ "scan_limit", __builtin_offsetof(struct kvp_params, scan_limit) },
	{ "policy_flags", __builtin_offsetof(struct kvp_params, flags) },
};

#define KVP_TEXT_NR	(sizeof(kvp_text_names) / sizeof(kvp_text_names[0]))

_Static_assert(KVP_TEXT_NR == KVP_PARAMS_NR, "every knob has a name");

static int kvp_text_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ',';
}

static kvp_u32 *kvp_text_field(struct kvp_params *p, kvp_u32 i)
{
	return (kvp_u32 *)((char *)p + kvp_text_names[i].off);
}

/* Index of the name s[0..n), or -1. */
static int kvp_text_find(const char *s, kvp_u32 n)
{
	kvp_u32 i, j;

	for (i = 0; i < KVP_TEXT_NR; i++) {
		const char *name = kvp_text_names[i].name;

		for (j = 0; j < n && name[j] && name[j] == s[j]; j++)
			;
		if (j == n && !name[j])
			return (int)i;
	}
	return -1;
}

/* Decimal or 0x-hexadecimal s[0..n) into *v, at most 0xffffffff. */
static int kvp_text_u32(const char *s, kvp_u32 n, kvp_u32 *v)
{
	kvp_u64 x = 0;
	kvp_u32 i = 0, base = 10;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return -KVP_EINVAL;
	for (; i < n; i++) {
		char c = s[i];
		kvp_u32 d;

		if (c >= '0' && c <= '9')
			d = (kvp_u32)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (kvp_u32)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (kvp_u32)(c - 'A' + 10);
		else
			return -KVP_EINVAL;
		x = x * base + d;
		if (x > 0xffffffffull)
			return -KVP_EINVAL;
	}
	*v = (kvp_u32)x;
	return 0;
}

/**
 * kvp_params_parse() - set the knobs a "name=value ..." text names.
 * @p: parameters; only the named fields change, and only on success.
 * @s: the text: tokens "name=value" separated by blanks, newlines or
 *     commas; NUL-terminated within KVP_PARAMS_TEXT_MAX bytes.
 * @bad: out, may be NULL: on -KVP_EINVAL, the first byte of the token that
 *     was refused (the terminating NUL if @s was too long or named nothing).
 *
 * Names are struct cxl_kv_params' (KVP_PARAMS_NR of them: alpha_q16,
 * tau_steps, ..., policy_flags); values decimal or 0x-hex, 0..0xffffffff.
 * A name given twice, an unknown name, a token without '=' or with a bad
 * value, or no token at all is refused.  The result is not validated: the
 * caller runs kvp_params_validate() on the whole set.
 *
 * Return: 0, or -KVP_EINVAL with @p unchanged.
 */
int kvp_params_parse(struct kvp_params *p, const char *s, const char **bad)
{
	struct kvp_params q = *p;
	kvp_u32 seen = 0, i = 0, len;
	const char *dummy;

	if (!bad)
		bad = &dummy;
	for (len = 0; len < KVP_PARAMS_TEXT_MAX && s[len]; len++)
		;
	if (len == KVP_PARAMS_TEXT_MAX) {
		*bad = s;
		return -KVP_EINVAL;
	}
	while (i < len) {
		kvp_u32 start, eq, end;
		int k;

		if (kvp_text_sep(s[i])) {
			i++;
			continue;
		}
		start = i;
		while (i < len && !kvp_text_sep(s[i]))
			i++;
		end = i;
		*bad = s + start;
		for (eq = start; eq < end && s[eq] != '='; eq++)
			;
		if (eq == end)
			return -KVP_EINVAL;
		k = kvp_text_find(s + start, eq - start);
		if (k < 0 || (seen & (1u << k)))
			return -KVP_EINVAL;
		if (kvp_text_u32(s + eq + 1, end - eq - 1, kvp_text_field(&q, (kvp_u32)k)))
			return -KVP_EINVAL;
		seen |= 1u << k;
	}
	if (!seen) {
		*bad = s + len;
		return -KVP_EINVAL;
	}
	*p = q;
	return 0;
}

/* Decimal @v at @buf[*at], if it fits in @len. */
static void kvp_text_put_u32(char *buf, kvp_u32 len, kvp_u32 *at, kvp_u32 v)
{
	char d[10];
	kvp_u32 n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n--) {
		if (*at < len)
			buf[*at] = d[n];
		(*at)++;
	}
}

static void kvp_text_put_str(char *buf, kvp_u32 len, kvp_u32 *at, const char *s)
{
	for (; *s; s++, (*at)++)
		if (*at < len)
			buf[*at] = *s;
}

/**
 * kvp_params_format() - every knob as "alpha_q16=16384 tau_steps=1000 ...".
 * @p: parameters.
 * @buf: out: the text, NUL-terminated, no newline (kvp_params_parse()
 *       reads it back to @p).
 * @len: bytes at @buf; KVP_PARAMS_TEXT_MAX always suffices.
 *
 * Return: the text's length (without the NUL), or -KVP_ENOSPC when @len
 * is too small (@buf then holds as much as fits, NUL-terminated if @len).
 */
int kvp_params_format(const struct kvp_params *p, char *buf, kvp_u32 len)
{
	kvp_u32 i, at = 0;

	for (i = 0; i < KVP_TEXT_NR; i++) {
		if (i)
			kvp_text_put_str(buf, len, &at, " ");
		kvp_text_put_str(buf, len, &at, kvp_text_names[i].name);
		kvp_text_put_str(buf, len, &at, "=");
		kvp_text_put_u32(buf, len, &at,
				 *(const kvp_u32 *)((const char *)p +
						    kvp_text_names[i].off));
	}
	if (at >= len) {
		if (len)
			buf[len - 1] = '\0';
		return -KVP_ENOSPC;
	}
	buf[at] = '\0';
	return (int)at;
}
