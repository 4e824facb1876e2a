/*
 * aggregate_support.c
 *      SQL glue shared by the aggregates with a float8[] state: the state
 *      argument ready for an update, the group's confidence level, and the
 *      per-call-site cache of a final function.
 */
#include "postgres.h"

#include "funcapi.h"

#include "aggregate_support.h"
#include "compat.h"
#include "quantiles.h"

/*
 * The state argument (argument 0), ready to be updated: in place when
 * called as part of an aggregate (the executor owns it), otherwise a copy.
 * The caller validates it.
 */
ArrayType *
MsStateArgument(FunctionCallInfo fcinfo)
{
	if (AggCheckCallContext(fcinfo, NULL))
		return PG_GETARG_ARRAYTYPE_P(0);
	return PG_GETARG_ARRAYTYPE_P_COPY(0);
}

/*
 * Checks a confidence level argument: in (0, 1), and the same as the
 * group's (*group_level, 0 until the first row sets it); call names the
 * aggregate for the hint.
 */
void
MsCheckLevel(double *group_level, double level, const char *call)
{
	if (!(level > 0.0 && level < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("level must be between 0 and 1 (exclusive), got %g", level),
				 errhint("Use for example 0.95 for a 95%% confidence interval.")));
	if (*group_level == 0.0)
		*group_level = level;
	else if (*group_level != level)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("level must be the same for every row of a group, got %g and %g",
						*group_level, level),
				 errhint("Pass a constant level to %s.", call)));
}

/* The per-call-site cache of a final function, with the (blessed) result row type. */
MsFinalCache *
MsGetFinalCache(FunctionCallInfo fcinfo)
{
	MsFinalCache *cache = (MsFinalCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		TupleDesc	tupdesc;

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		cache = palloc0(sizeof(MsFinalCache));
		cache->tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		fcinfo->flinfo->fn_extra = cache;
		MemoryContextSwitchTo(old);
	}
	return cache;
}

/* t_{(1 + level)/2, df}, recomputed only when level or df changed. */
double
MsCachedTQuantile(MsFinalCache *cache, double level, double df)
{
	if (cache->df != df || cache->level != level)
	{
		cache->t = MsTQuantile((1.0 + level) / 2.0, df);
		cache->df = df;
		cache->level = level;
	}
	return cache->t;
}
