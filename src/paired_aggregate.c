/*
 * paired_aggregate.c
 *      SQL glue for the aggregates paired_comparison(a, b) and
 *      paired_comparison(a, b, level): transition, inverse, combine and
 *      final functions over a float8[] state. The arithmetic lives in
 *      paired_kernel.c.
 *
 * State: float8[20] = the moments of a {count, mean, M2, min, max,
 * mean_low}, of b and of d = a - b (the same six each; mean + mean_low is
 * the mean, see paired_kernel.h), the co-moment of a and b, and the level;
 * all zero when empty (the INITCOND). The level is 0 until a row
 * of the three-argument form sets it. A float8[] (not internal)
 * needs no serialization, survives text round-trips and lets Citus push
 * partial aggregation to its workers. Every function validates the state
 * it is given, since anyone can call it directly with a forged array.
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
#include "paired_kernel.h"

#define MS_PAIRED_STATE_LEN 20
#define MS_PAIRED_STATE_LEVEL 19
#define MS_PAIRED_DEFAULT_LEVEL 0.95
#define MS_PAIRED_RESULT_FIELDS 13

PG_FUNCTION_INFO_V1(ms_paired_accum);
PG_FUNCTION_INFO_V1(ms_paired_accum_level);
PG_FUNCTION_INFO_V1(ms_paired_remove);
PG_FUNCTION_INFO_V1(ms_paired_combine);
PG_FUNCTION_INFO_V1(ms_paired_comparison_final);

/* Raises 22023 for a state array the aggregate could not have built. */
pg_attribute_noreturn() pg_noinline static void
ReportInvalidPairedState(bool shape_ok)
{
	if (!shape_ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid multisample paired comparison state: expected a one-dimensional float8 array of %d elements without NULLs",
						MS_PAIRED_STATE_LEN),
				 errhint("Pass only states built by paired_comparison.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid multisample paired comparison state: inconsistent values"),
			 errdetail("Each of a, b and a - b needs a valid {count, mean, M2, min, max, mean_low} with the same count; the co-moment and the second moments of a - b must be NaN exactly when a value was not finite; the level 0 or between 0 and 1."),
			 errhint("Pass only states built by paired_comparison.")));
}

/*
 * The statistics inside a state array, after checking the array's shape
 * and values (inline: it runs on every row).
 */
static inline float8 *
PairedStateValues(ArrayType *state)
{
	float8	   *v;
	double		level;

	StaticAssertStmt(sizeof(MsPaired) == MS_PAIRED_STATE_LEVEL * sizeof(float8),
					 "MsPaired must overlay the state elements before the level");

	if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] != MS_PAIRED_STATE_LEN ||
		ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID)
		ReportInvalidPairedState(false);

	/* ARR_DATA_PTR for a 1-D array without a null bitmap */
	v = (float8 *) ((char *) state + ARR_OVERHEAD_NONULLS(1));
	level = v[MS_PAIRED_STATE_LEVEL];
	if (!MsPairedIsValid((MsPaired *) v) || !(level == 0.0 || (level > 0.0 && level < 1.0)))
		ReportInvalidPairedState(true);
	return v;
}

/* The state argument, ready to be updated (see MsStateArgument), checked. */
static float8 *
PairedStateForUpdate(FunctionCallInfo fcinfo, ArrayType **state)
{
	*state = MsStateArgument(fcinfo);
	return PairedStateValues(*state);
}

static void
CheckPairedStatus(MsMomentsStatus status)
{
	if (status != MS_MOMENTS_OK)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range: overflow"),
				 errdetail("A difference, mean, sum of squared deviations or co-moment of these finite values exceeds the float8 range.")));
}

/* Checks a level argument: in (0, 1), and the group's level. */
static void
CheckPairedLevel(float8 *v, double level)
{
	MsCheckLevel(&v[MS_PAIRED_STATE_LEVEL], level, "paired_comparison(a, b, level)");
}

/* Transition function: adds a pair (rows with a NULL never reach it: STRICT). */
Datum
ms_paired_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *v = PairedStateForUpdate(fcinfo, &state);

	CheckPairedStatus(MsPairedAccum((MsPaired *) v, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)));
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Transition function with a level: checks it, adds the pair. */
Datum
ms_paired_accum_level(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *v = PairedStateForUpdate(fcinfo, &state);

	CheckPairedLevel(v, PG_GETARG_FLOAT8(3));
	CheckPairedStatus(MsPairedAccum((MsPaired *) v, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)));
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * Inverse transition function of both forms (the level is not needed):
 * removes a pair leaving a window frame, or returns NULL to ask the
 * executor to recompute the frame (see MsPairedRemove).
 */
Datum
ms_paired_remove(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *v = PairedStateForUpdate(fcinfo, &state);

	if (MsPairedRemove((MsPaired *) v, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)) != MS_MOMENTS_OK)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine function: merges two partial states (parallel, partitionwise). */
Datum
ms_paired_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *p = PairedStateForUpdate(fcinfo, &state);
	float8	   *q = PairedStateValues(PG_GETARG_ARRAYTYPE_P(1));

	if (q[MS_PAIRED_STATE_LEVEL] != 0.0)
		CheckPairedLevel(p, q[MS_PAIRED_STATE_LEVEL]);
	CheckPairedStatus(MsPairedCombine((MsPaired *) p, (const MsPaired *) q));
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * Final function: the multisample.paired_comparison of a state (see
 * MsPairedSummarize); NULL for no pairs. Read-only, so the state can be
 * shared.
 */
Datum
ms_paired_comparison_final(PG_FUNCTION_ARGS)
{
	float8	   *v = PairedStateValues(PG_GETARG_ARRAYTYPE_P(0));
	const MsPaired *p = (const MsPaired *) v;
	double		level = v[MS_PAIRED_STATE_LEVEL] != 0.0 ? v[MS_PAIRED_STATE_LEVEL] : MS_PAIRED_DEFAULT_LEVEL;
	MsFinalCache *cache;
	MsPairedResult r;
	double		t_crit = 0.0;
	Datum		values[MS_PAIRED_RESULT_FIELDS];
	bool		nulls[MS_PAIRED_RESULT_FIELDS];
	int			i;

	if (p->a.count == 0.0)
		PG_RETURN_NULL();
	cache = MsGetFinalCache(fcinfo);
	if (p->a.count >= 2.0)
		t_crit = MsCachedTQuantile(cache, level, p->a.count - 1.0);
	MsPairedSummarize(p, t_crit, &r);

	for (i = 0; i < MS_PAIRED_RESULT_FIELDS; i++)
		nulls[i] = true;
	values[0] = Int64GetDatum((int64) r.pairs);
	values[1] = Float8GetDatum(r.mean_a);
	values[2] = Float8GetDatum(r.mean_b);
	values[3] = Float8GetDatum(r.mean_difference);
	nulls[0] = nulls[1] = nulls[2] = nulls[3] = false;
	if (r.has_spread)
	{
		values[4] = Float8GetDatum(r.std_error);
		values[5] = Float8GetDatum(r.lower);
		values[6] = Float8GetDatum(r.upper);
		values[7] = Float8GetDatum(level);
		values[9] = Float8GetDatum(r.df);
		nulls[4] = nulls[5] = nulls[6] = nulls[7] = nulls[9] = false;
	}
	if (r.has_test)
	{
		values[8] = Float8GetDatum(r.t_statistic);
		values[10] = Float8GetDatum(r.p_value);
		values[11] = Float8GetDatum(r.effect_size);
		nulls[8] = nulls[10] = nulls[11] = false;
	}
	if (r.has_correlation)
	{
		values[12] = Float8GetDatum(r.correlation);
		nulls[12] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(cache->tupdesc, values, nulls)));
}
