// SPDX-License-Identifier: GPL-2.0
/*
 * Policy core: the knobs as text (kvp_params_parse(), kvp_params_format()),
 * the form of the module's default_policy parameter and of cxl-kv apply's
 * policy key.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kvpolicy.h"
#include "libcxl_kv.h"

Test(policy_text, format_parses_back_to_the_same_set)
{
	struct kvp_params d, p, q;
	char buf[KVP_PARAMS_TEXT_MAX];
	int n;

	kvp_params_default(&d);
	n = kvp_params_format(&d, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen(buf));
	cr_assert(strstr(buf, "alpha_q16=16384 tau_steps=1000 "));
	cr_assert(strstr(buf, " policy_flags=15"));
	memset(&p, 0x5a, sizeof(p));
	memset(p.reserved, 0, sizeof(p.reserved));
	cr_assert_eq(kvp_params_parse(&p, buf, NULL), 0);
	cr_assert_eq(memcmp(&p, &d, sizeof(p)), 0);
	/* the largest values fit KVP_PARAMS_TEXT_MAX */
	memset(&q, 0xff, sizeof(q));
	cr_assert_gt(kvp_params_format(&q, buf, sizeof(buf)), 0);
	cr_assert_eq(kvp_params_format(&d, buf, 20), -KVP_ENOSPC);
	cr_assert_eq(strlen(buf), 19);
}

Test(policy_text, names_are_the_library_s)
{
	struct kvp_params d;
	char buf[KVP_PARAMS_TEXT_MAX], *save, *tok;
	int n = 0;

	kvp_params_default(&d);
	kvp_params_format(&d, buf, sizeof(buf));
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		uint64_t bit;

		*strchr(tok, '=') = '\0';
		cr_assert_eq(cxl_kv_param_lookup(tok, &bit), 0, "%s", tok);
		n++;
	}
	cr_assert_eq(n, KVP_PARAMS_NR);
}

Test(policy_text, only_the_named_knobs_change)
{
	struct kvp_params d, p;

	kvp_params_default(&d);
	p = d;
	cr_assert_eq(kvp_params_parse(&p, " tau_steps=500,\tsink_tokens=0x20\n",
				      NULL), 0);
	cr_assert_eq(p.tau_steps, 500);
	cr_assert_eq(p.sink_tokens, 32);
	p.tau_steps = d.tau_steps;
	p.sink_tokens = d.sink_tokens;
	cr_assert_eq(memcmp(&p, &d, sizeof(p)), 0);
	cr_assert_eq(kvp_params_parse(&p, "policy_flags=4294967295", NULL), 0);
	cr_assert_eq(p.flags, 0xffffffffu);
	cr_assert_eq(kvp_params_validate(&p), -KVP_EINVAL);
}

Test(policy_text, bad_text_changes_nothing_and_names_the_token)
{
	static const struct {
		const char *s;
		int bad_at;	/* offset of the refused token */
	} bad[] = {
		{ "", 0 }, { " \n", 2 }, { "alpha_q16", 0 }, { "alpha_q16=", 0 },
		{ "tau_steps=1 alpha=5", 12 }, { "alpha_q16=-1", 0 },
		{ "alpha_q16=4294967296", 0 }, { "alpha_q16=99999999999999999999", 0 },
		{ "alpha_q16=1x", 0 }, { "alpha_q16=0x", 0 }, { "=5", 0 },
		{ "tau_steps=5 tau_steps=6", 12 }, { "tau_steps==5", 0 },
		{ "alpha_q16 =5", 0 }, { "ALPHA_Q16=5", 0 }, { "reserved=0", 0 },
		{ "alpha_q1=5", 0 }, { "alpha_q166=5", 0 },
	};
	struct kvp_params d, p;
	char *huge;

	kvp_params_default(&d);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *at = NULL;

		p = d;
		cr_assert_eq(kvp_params_parse(&p, bad[i].s, &at), -KVP_EINVAL,
			     "'%s'", bad[i].s);
		cr_assert_eq(at - bad[i].s, bad[i].bad_at, "'%s'", bad[i].s);
		cr_assert_eq(memcmp(&p, &d, sizeof(p)), 0, "'%s'", bad[i].s);
	}
	/* bounded: a text of KVP_PARAMS_TEXT_MAX bytes or more is refused */
	huge = malloc(KVP_PARAMS_TEXT_MAX + 1);
	memset(huge, ' ', KVP_PARAMS_TEXT_MAX);
	memcpy(huge, "tau_steps=5", 11);
	huge[KVP_PARAMS_TEXT_MAX] = '\0';
	p = d;
	cr_assert_eq(kvp_params_parse(&p, huge, NULL), -KVP_EINVAL);
	huge[KVP_PARAMS_TEXT_MAX - 1] = '\0';
	cr_assert_eq(kvp_params_parse(&p, huge, NULL), 0);
	cr_assert_eq(p.tau_steps, 5);
	free(huge);
}
