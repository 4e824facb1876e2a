/*
 * aggregate_support.h
 *      SQL glue shared by the aggregates with a float8[] state
 *      (stats_aggregates.c, paired_aggregate.c): the state argument ready
 *      for an update, the group's confidence level, and the per-call-site
 *      cache of a final function (result row type, last t quantile).
 */
#ifndef MULTISAMPLE_AGGREGATE_SUPPORT_H
#define MULTISAMPLE_AGGREGATE_SUPPORT_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "utils/array.h"

/* Cached per final-function call site: the result row type and last t. */
typedef struct MsFinalCache
{
	TupleDesc	tupdesc;
	double		level;			/* t is the (1 + level)/2 quantile ... */
	double		df;				/* ... with df degrees of freedom */
	double		t;
} MsFinalCache;

extern ArrayType *MsStateArgument(FunctionCallInfo fcinfo);
extern void MsCheckLevel(double *group_level, double level, const char *call);
extern MsFinalCache *MsGetFinalCache(FunctionCallInfo fcinfo);
extern double MsCachedTQuantile(MsFinalCache *cache, double level, double df);

#endif							/* MULTISAMPLE_AGGREGATE_SUPPORT_H */
