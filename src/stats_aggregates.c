/*
 * stats_aggregates.c
 *      SQL glue for the aggregates variance_stats(float8),
 *      confidence_interval(float8) and confidence_interval(float8, level):
 *      transition, inverse, combine and final functions over a float8[]
 *      state. The arithmetic lives in stats_kernel.c.
 *
 * State: float8[7] = {count, mean, M2, min, max, mean_low, level}, all zero
 * when empty (the INITCOND); mean_low is the low-order part of the mean
 * (see stats_kernel.h); level is 0 until a row of the two-argument
 * confidence_interval sets it. A float8[] (not internal) needs no
 * serialization, survives text round-trips and lets Citus push partial
 * aggregation to its workers. Every function validates the state it is
 * given, since anyone can call it directly with a forged array.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"

#include "aggregate_support.h"
#include "compat.h"
#include "stats_kernel.h"

#define MS_STATE_LEN 7
#define MS_STATE_LEVEL 6
#define MS_DEFAULT_LEVEL 0.95

PG_FUNCTION_INFO_V1(ms_moments_accum);
PG_FUNCTION_INFO_V1(ms_moments_accum_level);
PG_FUNCTION_INFO_V1(ms_moments_remove);
PG_FUNCTION_INFO_V1(ms_moments_combine);
PG_FUNCTION_INFO_V1(ms_variance_stats_final);
PG_FUNCTION_INFO_V1(ms_confidence_interval_final);

/* Raises 22023 for a state array the aggregates could not have built. */
pg_attribute_noreturn() pg_noinline static void
ReportInvalidState(ArrayType *state, bool shape_ok)
{
	float8	   *v;

	if (!shape_ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid multisample statistics state: expected a one-dimensional float8 array of %d elements without NULLs",
						MS_STATE_LEN),
				 errhint("Pass only states built by the multisample statistics aggregates.")));
	v = (float8 *) ((char *) state + ARR_OVERHEAD_NONULLS(1));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid multisample statistics state: inconsistent values {%g,%g,%g,%g,%g,%g,%g}",
					v[0], v[1], v[2], v[3], v[4], v[5], v[6]),
			 errdetail("The count must be an integer between 0 and 2^53, an empty state all zeros, the sum of squared deviations non-negative and NaN exactly when the mean is not finite, |mean_low| at most 2^-45 |mean|, min <= max, and the level 0 or between 0 and 1."),
			 errhint("Pass only states built by the multisample statistics aggregates.")));
}

/*
 * The moments inside a state array, after checking the array's shape and
 * values (inline: it runs on every row).
 */
static inline float8 *
StateValues(ArrayType *state)
{
	float8	   *v;
	double		level;

	StaticAssertStmt(sizeof(MsMoments) == MS_STATE_LEVEL * sizeof(float8),
					 "MsMoments must overlay the state elements before the level");

	if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] != MS_STATE_LEN ||
		ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID)
		ReportInvalidState(state, false);

	/* ARR_DATA_PTR for a 1-D array without a null bitmap */
	v = (float8 *) ((char *) state + ARR_OVERHEAD_NONULLS(1));
	level = v[MS_STATE_LEVEL];
	if (!MsMomentsIsValid((MsMoments *) v) || !(level == 0.0 || (level > 0.0 && level < 1.0)))
		ReportInvalidState(state, true);
	return v;
}

/* The state argument, ready to be updated (see MsStateArgument), checked. */
static float8 *
StateForUpdate(FunctionCallInfo fcinfo, ArrayType **state)
{
	*state = MsStateArgument(fcinfo);
	return StateValues(*state);
}

static void
ReportOverflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value out of range: overflow"),
			 errdetail("The mean or the sum of squared deviations of these finite values exceeds the float8 range.")));
}

/* Checks a confidence level argument: in (0, 1), and the group's level. */
static void
CheckLevel(float8 *v, double level)
{
	MsCheckLevel(&v[MS_STATE_LEVEL], level, "confidence_interval(x, level)");
}

static void
Accum(float8 *v, double x)
{
	if (MsMomentsAccum((MsMoments *) v, x) != MS_MOMENTS_OK)
		ReportOverflow();
}

/* Transition function: adds one value (NULLs never reach it: STRICT). */
Datum
ms_moments_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *v = StateForUpdate(fcinfo, &state);

	Accum(v, PG_GETARG_FLOAT8(1));
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Transition function with a confidence level: checks it, adds the value. */
Datum
ms_moments_accum_level(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *v = StateForUpdate(fcinfo, &state);

	CheckLevel(v, PG_GETARG_FLOAT8(2));
	Accum(v, PG_GETARG_FLOAT8(1));
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * Inverse transition function of both forms (the level argument of the
 * two-argument form is not needed): removes a value leaving a window frame,
 * or returns NULL to ask the executor to recompute the frame (see
 * MsMomentsRemove).
 */
Datum
ms_moments_remove(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *v = StateForUpdate(fcinfo, &state);

	if (MsMomentsRemove((MsMoments *) v, PG_GETARG_FLOAT8(1)) != MS_MOMENTS_OK)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine function: merges two partial states (parallel, partitionwise). */
Datum
ms_moments_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *a = StateForUpdate(fcinfo, &state);
	float8	   *b = StateValues(PG_GETARG_ARRAYTYPE_P(1));

	if (b[MS_STATE_LEVEL] != 0.0)
		CheckLevel(a, b[MS_STATE_LEVEL]);
	if (MsMomentsCombine((MsMoments *) a, (const MsMoments *) b) != MS_MOMENTS_OK)
		ReportOverflow();
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * Final function of variance_stats: NULL for no rows; with one row the
 * spread fields are NULL. Read-only, so the state can be shared.
 */
Datum
ms_variance_stats_final(PG_FUNCTION_ARGS)
{
	float8	   *v = StateValues(PG_GETARG_ARRAYTYPE_P(0));
	const MsMoments *m = (const MsMoments *) v;
	MsFinalCache *cache;
	Datum		values[8];
	bool		nulls[8] = {false};

	if (m->count == 0.0)
		PG_RETURN_NULL();
	cache = MsGetFinalCache(fcinfo);

	values[0] = Int64GetDatum((int64) m->count);
	values[1] = Float8GetDatum(MsMomentsMean(m));
	if (m->count >= 2.0)
	{
		double		variance = m->m2 / (m->count - 1.0);
		double		std_dev = sqrt(variance);

		values[2] = Float8GetDatum(std_dev);
		values[3] = Float8GetDatum(variance);
		values[4] = Float8GetDatum(std_dev / sqrt(m->count));
	}
	else
		nulls[2] = nulls[3] = nulls[4] = true;
	values[5] = Float8GetDatum(m->min);
	values[6] = Float8GetDatum(m->max);
	values[7] = Float8GetDatum(m->max - m->min);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(cache->tupdesc, values, nulls)));
}

/*
 * Final function of confidence_interval: the Student-t interval
 * mean +- t_{(1+level)/2, n-1} s / sqrt(n). NULL for no rows; with one row
 * lower, upper and margin are NULL. Read-only.
 */
Datum
ms_confidence_interval_final(PG_FUNCTION_ARGS)
{
	float8	   *v = StateValues(PG_GETARG_ARRAYTYPE_P(0));
	const MsMoments *m = (const MsMoments *) v;
	double		level = v[MS_STATE_LEVEL] != 0.0 ? v[MS_STATE_LEVEL] : MS_DEFAULT_LEVEL;
	MsFinalCache *cache;
	Datum		values[6];
	bool		nulls[6] = {false};

	if (m->count == 0.0)
		PG_RETURN_NULL();
	cache = MsGetFinalCache(fcinfo);

	if (m->count >= 2.0)
	{
		double		df = m->count - 1.0;
		double		margin = MsCachedTQuantile(cache, level, df) * (sqrt(m->m2 / df) / sqrt(m->count));

		values[0] = Float8GetDatum(MsMomentsMean(m) - margin);
		values[1] = Float8GetDatum(MsMomentsMean(m) + margin);
		values[4] = Float8GetDatum(margin);
	}
	else
		nulls[0] = nulls[1] = nulls[4] = true;
	values[2] = Float8GetDatum(level);
	values[3] = Float8GetDatum(MsMomentsMean(m));
	values[5] = Int64GetDatum((int64) m->count);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(cache->tupdesc, values, nulls)));
}
