/*
 * cdf_functions.c
 *      SQL-callable t_cdf(t, df) and normal_cdf(z): argument checks over
 *      the distribution functions of cdf.c.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"

#include "cdf.h"
#include "compat.h"

PG_FUNCTION_INFO_V1(ms_t_cdf);
PG_FUNCTION_INFO_V1(ms_normal_cdf);

/* P(T <= t) for Student's t with df degrees of freedom; NaN t gives NaN. */
Datum
ms_t_cdf(PG_FUNCTION_ARGS)
{
	float8		t = PG_GETARG_FLOAT8(0);
	float8		df = PG_GETARG_FLOAT8(1);

	if (!(df > 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("df must be greater than 0, got %g", df),
				 errhint("df may be any positive real number; Infinity gives the normal distribution.")));
	PG_RETURN_FLOAT8(MsTCdf(t, df));
}

/* P(Z <= z) for the standard normal distribution; NaN gives NaN. */
Datum
ms_normal_cdf(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(MsNormalCdf(PG_GETARG_FLOAT8(0)));
}
