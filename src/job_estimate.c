/*
 * job_estimate.c
 *      Planner support for expand_run_jobs: the row estimate. When the id
 *      lists, the percentage and the sample count are known at plan time
 *      (constants, or parameter values in a custom plan), the planner gets
 *      the exact number of jobs instead of the declared ROWS 1000.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "nodes/primnodes.h"
#include "nodes/supportnodes.h"
#include "utils/array.h"

#include "compat.h"
#include "multisample.h"
#include "scenario_selection.h"

PG_FUNCTION_INFO_V1(expand_run_jobs_support);

/* Arguments of expand_run_jobs, in order. */
#define ARG_SCENARIO_IDS 0
#define ARG_MODEL_IDS 1
#define ARG_SAMPLES 2
#define ARG_PERCENTAGE 3
#define EXPAND_RUN_JOBS_NARGS 6

/* The element count of a constant one-dimensional array argument, or -1. */
static int
ConstArrayLength(Node *arg)
{
	Const	   *c;
	ArrayType  *array;

	if (!IsA(arg, Const) || ((Const *) arg)->constisnull)
		return -1;
	c = (Const *) arg;
	array = DatumGetArrayTypeP(c->constvalue);
	if (ARR_NDIM(array) != 1)
		return -1;
	return ARR_DIMS(array)[0];
}

/*
 * The value of a constant integer argument if it lies in [min, max]; a NULL
 * constant gives null_value; anything else -1.
 */
static int
ConstInRange(Node *arg, int min, int max, int null_value)
{
	Const	   *c;
	int32		value;

	if (!IsA(arg, Const))
		return -1;
	c = (Const *) arg;
	if (c->constisnull)
		return null_value;
	value = DatumGetInt32(c->constvalue);
	return (value >= min && value <= max) ? value : -1;
}

/*
 * The number of jobs a call of expand_run_jobs will return, if its
 * arguments are known: selected scenarios x models x samples.
 */
static bool
EstimateJobCount(List *args, double *rows)
{
	int			scenarios;
	int			models;
	int			samples;
	int			percentage;

	if (list_length(args) != EXPAND_RUN_JOBS_NARGS)
		return false;
	scenarios = ConstArrayLength(list_nth(args, ARG_SCENARIO_IDS));
	models = ConstArrayLength(list_nth(args, ARG_MODEL_IDS));
	samples = ConstInRange(list_nth(args, ARG_SAMPLES), MS_MIN_SAMPLES_PER_SCENARIO,
						   MS_MAX_SAMPLES_PER_SCENARIO, ms_default_samples_per_scenario);
	percentage = ConstInRange(list_nth(args, ARG_PERCENTAGE), 1, 100, -1);
	if (scenarios < 1 || models < 1 || samples < 1 || percentage < 1)
		return false;
	*rows = (double) SelectionTarget(scenarios, percentage) * models * samples;
	return true;
}

/* expand_run_jobs_support(internal): planner support (row estimate) for expand_run_jobs. */
Datum
expand_run_jobs_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);

	if (IsA(rawreq, SupportRequestRows))
	{
		SupportRequestRows *req = (SupportRequestRows *) rawreq;
		double		rows;

		if (is_funcclause(req->node) &&
			EstimateJobCount(((FuncExpr *) req->node)->args, &rows))
		{
			req->rows = rows;
			PG_RETURN_POINTER(req);
		}
	}
	PG_RETURN_POINTER(NULL);
}
