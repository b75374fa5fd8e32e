// SPDX-License-Identifier: GPL-2.0
/* Fixed-point math of the policy core against a double reference. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kvpolicy.h"

static double q(kvp_u32 v)
{
	return v / 65536.0;
}

static kvp_u32 toq(double v)
{
	return (kvp_u32)(v * 65536.0 + 0.5);
}

static uint64_t rs = 0x1234567887654321ull;

static double urand(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return ((rs * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}

Test(policy_math, ema_single_step_vs_double)
{
	for (int i = 0; i < 200000; i++) {
		kvp_u32 e = toq(urand()), s = toq(urand());
		kvp_u32 a = 1 + (kvp_u32)(urand() * 65535);
		double ref = q(a) * q(s) + (1 - q(a)) * q(e);

		cr_assert_leq(fabs(q(kvp_ema_q16(e, s, a)) - ref), 1e-3,
			      "ema(%u,%u,%u)", e, s, a);
	}
}

Test(policy_math, ema_iterated_vs_double)
{
	for (int run = 0; run < 200; run++) {
		double alpha = 0.05 + 0.95 * urand(), ref = 0, worst = 0;
		kvp_u32 a = toq(alpha), e = 0;

		alpha = q(a);	/* the same alpha in both */
		for (int i = 0; i < 2000; i++) {
			double s = urand() * urand();

			e = kvp_ema_q16(e, toq(s), a);
			ref = alpha * q(toq(s)) + (1 - alpha) * ref;
			if (fabs(q(e) - ref) > worst)
				worst = fabs(q(e) - ref);
		}
		cr_assert_leq(worst, 1e-3, "alpha %f: worst %g", alpha, worst);
	}
}

Test(policy_math, ema_bounds)
{
	cr_assert_eq(kvp_ema_q16(0, KVP_ONE, KVP_ONE), KVP_ONE);
	cr_assert_eq(kvp_ema_q16(KVP_ONE, 0, KVP_ONE), 0);
	cr_assert_eq(kvp_ema_q16(12345, 0, 0), 12345);
	cr_assert_leq(kvp_ema_q16(KVP_ONE, 2 * KVP_ONE, KVP_ONE / 2), KVP_ONE);
}

Test(policy_math, decay_vs_double)
{
	for (int i = 0; i < 200000; i++) {
		kvp_u32 tau = 1 + (kvp_u32)(urand() * 100000);
		kvp_u32 age = (kvp_u32)(urand() * 20.0 * tau);
		double ref = 1 - exp(-(double)age / tau);

		cr_assert_leq(fabs(q(kvp_decay_q16(age, tau)) - ref), 1e-4,
			      "decay(%u,%u)=%f ref %f", age, tau,
			      q(kvp_decay_q16(age, tau)), ref);
	}
	cr_assert_eq(kvp_decay_q16(0, 1000), 0);
	cr_assert_eq(kvp_decay_q16(0xffffffffu, 1000), KVP_ONE);
}

Test(policy_math, decay_monotonic)
{
	kvp_u32 prev = 0;

	for (kvp_u32 age = 0; age < 20000; age++) {
		kvp_u32 d = kvp_decay_q16(age, 1000);

		cr_assert_geq(d, prev, "age %u", age);
		prev = d;
	}
}

/* The seed's worked examples (Figure 7). */
Test(policy_math, seed_check_values)
{
	double p1 = q(kvp_priority_q16(toq(0.211), 50, 1000));
	double p2 = q(kvp_priority_q16(toq(0.08), 2000, 1000));

	cr_assert_leq(fabs(p1 - 0.039), 0.005, "priority A %f", p1);
	cr_assert_leq(fabs(p2 - 0.796), 0.005, "priority B %f", p2);
	cr_assert_leq(fabs(q(kvp_decay_q16(50, 1000)) - 0.049), 0.001);
	cr_assert_leq(fabs(q(kvp_decay_q16(2000, 1000)) - 0.865), 0.001);
	cr_assert_gt(p2, p1, "B must leave first");
}

Test(policy_math, priority_vs_double)
{
	for (int i = 0; i < 100000; i++) {
		kvp_u32 e = toq(urand()), tau = 1 + (kvp_u32)(urand() * 5000);
		kvp_u32 age = (kvp_u32)(urand() * 10.0 * tau);
		double ref = (1 - q(e)) * (1 - exp(-(double)age / tau));

		cr_assert_leq(fabs(q(kvp_priority_q16(e, age, tau)) - ref), 2e-4);
	}
}
