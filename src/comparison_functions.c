/*
 * comparison_functions.c
 *      SQL-callable functions for comparing models: wilson_interval,
 *      holm_adjust, scenarios_needed, minimum_detectable_difference,
 *      pass_at_k and pass_hat_k. Argument checks and conversions over
 *      comparison_kernel.c and pass_at_k.c.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"

#include "comparison_kernel.h"
#include "compat.h"
#include "pass_at_k.h"
#include "quantiles.h"

PG_FUNCTION_INFO_V1(ms_wilson_interval);
PG_FUNCTION_INFO_V1(ms_holm_adjust);
PG_FUNCTION_INFO_V1(ms_scenarios_needed);
PG_FUNCTION_INFO_V1(ms_minimum_detectable_difference);
PG_FUNCTION_INFO_V1(ms_pass_at_k);
PG_FUNCTION_INFO_V1(ms_pass_hat_k);

/* Raises 22023 unless 0 < value < 1; name is the argument's. */
static void
CheckOpenUnit(const char *name, double value)
{
	if (!(value > 0.0 && value < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between 0 and 1 (exclusive), got %g", name, value)));
}

/* Raises 22023 unless value is finite and >= 0 (or > 0 when positive). */
static void
CheckNonNegative(const char *name, double value, bool positive)
{
	if (!(isfinite(value) && (positive ? value > 0.0 : value >= 0.0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite number %s 0, got %g", name,
						positive ? "greater than" : "of at least", value)));
}

/* Wilson's score interval for successes out of trials: (estimate, lower, upper). */
Datum
ms_wilson_interval(PG_FUNCTION_ARGS)
{
	float8		successes = PG_GETARG_FLOAT8(0);
	float8		trials = PG_GETARG_FLOAT8(1);
	float8		level = PG_GETARG_FLOAT8(2);
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	double		lower;
	double		upper;

	CheckNonNegative("trials", trials, true);
	if (!(successes >= 0.0 && successes <= trials))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("successes must be between 0 and trials (%g), got %g", trials, successes)));
	CheckOpenUnit("level", level);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	/* (1 - level) / 2 is exact for level >= 1/2 */
	MsWilsonInterval(successes, trials, -MsNormalQuantile((1.0 - level) / 2.0), &lower, &upper);
	values[0] = Float8GetDatum(successes / trials);
	values[1] = Float8GetDatum(lower);
	values[2] = Float8GetDatum(upper);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * Holm-Bonferroni adjusted p-values, in the input order and with the
 * input's bounds; NULLs stay NULL and do not count.
 */
Datum
ms_holm_adjust(PG_FUNCTION_ARGS)
{
	ArrayType  *input = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;
	int			m = 0;
	int			i;
	double	   *p;
	double	   *adjusted;
	int		   *order;

	if (ARR_NDIM(input) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_values must be a one-dimensional array, got %d dimensions", ARR_NDIM(input))));
	if (ARR_NDIM(input) == 0)
		PG_RETURN_ARRAYTYPE_P(input);
	deconstruct_array(input, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &elem_nulls, &n);
	p = palloc(sizeof(double) * n);
	adjusted = palloc(sizeof(double) * n);
	order = palloc(sizeof(int) * n);
	for (i = 0; i < n; i++)
	{
		double		v;

		if (elem_nulls[i])
			continue;
		v = DatumGetFloat8(elems[i]);
		if (!(v >= 0.0 && v <= 1.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_values must hold numbers between 0 and 1, got %g at position %d",
							v, ARR_LBOUND(input)[0] + i)));
		p[m++] = v;
	}
	MsHolmAdjust(p, m, order, adjusted);
	for (i = 0, m = 0; i < n; i++)
		if (!elem_nulls[i])
			elems[i] = Float8GetDatum(adjusted[m++]);
	PG_RETURN_ARRAYTYPE_P(construct_md_array(elems, elem_nulls, 1, ARR_DIMS(input), ARR_LBOUND(input),
											 FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
											 TYPALIGN_DOUBLE));
}

/*
 * Checks the arguments the two power functions share (from the given
 * position on) and returns the variance of a scenario's difference.
 */
static double
PowerArguments(FunctionCallInfo fcinfo, int first, double *alpha, double *power)
{
	double		between_variance = PG_GETARG_FLOAT8(first);
	double		within_variance_a = PG_GETARG_FLOAT8(first + 1);
	double		within_variance_b = PG_GETARG_FLOAT8(first + 2);
	double		samples_a = PG_GETARG_FLOAT8(first + 3);
	double		samples_b = PG_GETARG_FLOAT8(first + 4);

	CheckNonNegative("between_variance", between_variance, false);
	CheckNonNegative("within_variance_a", within_variance_a, false);
	CheckNonNegative("within_variance_b", within_variance_b, false);
	CheckNonNegative("samples_a", samples_a, true);
	CheckNonNegative("samples_b", samples_b, true);
	*alpha = PG_GETARG_FLOAT8(first + 5);
	*power = PG_GETARG_FLOAT8(first + 6);
	CheckOpenUnit("alpha", *alpha);
	CheckOpenUnit("power", *power);
	return MsDifferenceVariance(between_variance, within_variance_a, within_variance_b,
								samples_a, samples_b);
}

/* Scenarios needed to detect a true difference (Miller 2024, section 5). */
Datum
ms_scenarios_needed(PG_FUNCTION_ARGS)
{
	float8		difference = PG_GETARG_FLOAT8(0);
	double		alpha;
	double		power;
	double		variance;

	if (!(difference > 0.0 && isfinite(difference)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("difference must be a finite number greater than 0, got %g", difference),
				 errhint("Pass the absolute value of the difference to detect; no number of scenarios detects a difference of 0.")));
	variance = PowerArguments(fcinfo, 1, &alpha, &power);
	PG_RETURN_FLOAT8(MsScenariosNeeded(difference, variance, alpha, power));
}

/* The smallest true difference detected on the given number of scenarios. */
Datum
ms_minimum_detectable_difference(PG_FUNCTION_ARGS)
{
	int64		scenarios = PG_GETARG_INT64(0);
	double		alpha;
	double		power;
	double		variance;

	if (scenarios < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("scenarios must be at least 1, got " INT64_FORMAT, scenarios)));
	variance = PowerArguments(fcinfo, 1, &alpha, &power);
	PG_RETURN_FLOAT8(MsMinimumDetectableDifference((double) scenarios, variance, alpha, power));
}

/*
 * The arguments n, c and k of pass_at_k and pass_hat_k, checked, as
 * doubles (exact: n <= 2^53).
 */
static void
PassArguments(FunctionCallInfo fcinfo, double *n_out, double *c_out, double *k_out)
{
	int64		n = PG_GETARG_INT64(0);
	int64		c = PG_GETARG_INT64(1);
	int32		k = PG_GETARG_INT32(2);

	if (n < 0 || n > (int64) MS_PASS_AT_K_MAX_N)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be between 0 and 2^53, got " INT64_FORMAT, n)));
	if (c < 0 || c > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("c must be between 0 and n (" INT64_FORMAT "), got " INT64_FORMAT, n, c),
				 errhint("c is the number of successes among the n samples.")));
	if (k < 1 || k > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and n (" INT64_FORMAT "), got %d", n, k)));
	*n_out = (double) n;
	*c_out = (double) c;
	*k_out = (double) k;
}

/* pass@k = 1 - C(n - c, k) / C(n, k) (Chen et al. 2021). */
Datum
ms_pass_at_k(PG_FUNCTION_ARGS)
{
	double		n;
	double		c;
	double		k;

	PassArguments(fcinfo, &n, &c, &k);
	PG_RETURN_FLOAT8(MsPassAtK(n, c, k));
}

/* pass^k = C(c, k) / C(n, k): k samples all succeed. */
Datum
ms_pass_hat_k(PG_FUNCTION_ARGS)
{
	double		n;
	double		c;
	double		k;

	PassArguments(fcinfo, &n, &c, &k);
	PG_RETURN_FLOAT8(MsPassHatK(n, c, k));
}
