/*
 * quantile_functions.c
 *      SQL-callable t_quantile(p, df) and normal_quantile(p): argument
 *      checks over the algorithms of quantiles.c.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"

#include "compat.h"
#include "quantiles.h"

PG_FUNCTION_INFO_V1(ms_t_quantile);
PG_FUNCTION_INFO_V1(ms_normal_quantile);

static void
CheckProbability(double p)
{
	if (!(p > 0.0 && p < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p must be between 0 and 1 (exclusive), got %g", p)));
}

/* t such that P(T <= t) = p for Student's t with df degrees of freedom. */
Datum
ms_t_quantile(PG_FUNCTION_ARGS)
{
	float8		p = PG_GETARG_FLOAT8(0);
	float8		df = PG_GETARG_FLOAT8(1);

	float8		t;

	CheckProbability(p);
	if (!(df > 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("df must be greater than 0, got %g", df),
				 errhint("df may be any positive real number; Infinity gives the normal quantile.")));
	t = MsTQuantile(p, df);
	if (isinf(t))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range: overflow"),
				 errdetail("The quantile of Student's t with df = %g at p = %g exceeds the float8 range.", df, p)));
	PG_RETURN_FLOAT8(t);
}

/* z such that P(Z <= z) = p for the standard normal distribution. */
Datum
ms_normal_quantile(PG_FUNCTION_ARGS)
{
	float8		p = PG_GETARG_FLOAT8(0);

	CheckProbability(p);
	PG_RETURN_FLOAT8(MsNormalQuantile(p));
}
