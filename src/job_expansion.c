/*
 * job_expansion.c
 *      SQL glue for runs and jobs (SPEC 4.1, 4.2): select_scenarios, the
 *      reference platform's deterministic scenario selection, and
 *      expand_run_jobs, which streams the probe jobs of a run one row per
 *      call (scenario x model x sample index) in constant memory.
 *
 * Neither function is STRICT: a NULL id list is an error (array_agg over no
 * rows gives NULL, and silently expanding nothing would hide that), as is a
 * NULL sample_percentage; NULL samples_per_scenario means the setting
 * multisample.default_samples_per_scenario; NULL sample_seed means "seed
 * from the definition id", which then must not be NULL. Every argument is
 * checked on every call, whether or not this call needs it, so a call that
 * works with one percentage does not fail with another.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "compat.h"
#include "multisample.h"
#include "scenario_selection.h"

PG_FUNCTION_INFO_V1(select_scenarios);
PG_FUNCTION_INFO_V1(expand_run_jobs);

/* Longest id quoted whole in an error message, in bytes. */
#define MAX_QUOTED_ID_BYTES 64

/* A validated list of ids: non-empty, one-dimensional, no NULL, no duplicate. */
typedef struct IdList
{
	Datum	   *ids;			/* text datums, in the given order */
	int32		count;
} IdList;

/* One id for the duplicate check: its bytes and where it stands. */
typedef struct IdRef
{
	const char *data;
	int32		len;
	int32		pos;			/* 0-based position in the list */
} IdRef;

/* Per-call state of expand_run_jobs, in the multi-call memory context. */
typedef struct JobExpansion
{
	Datum	   *scenarios;		/* selected scenario ids, in selection order */
	Datum	   *models;			/* model ids, in the given order */
	int32		nscenarios;
	int32		nmodels;
	int32		nsamples;
	int32		scenario;		/* position of the next row */
	int32		model;
	int32		sample;
	Datum		values[3];		/* the next row, reused for every row */
	bool		nulls[3];
} JobExpansion;

/*
 * An id for an error message, in double quotes, clipped to
 * MAX_QUOTED_ID_BYTES at a character boundary.
 */
static char *
QuotedId(const char *data, int len)
{
	int			keep = pg_mbcliplen(data, len, MAX_QUOTED_ID_BYTES);
	char	   *clipped = pnstrdup(data, keep);

	return psprintf("\"%s\"%s", clipped, keep < len ? "..." : "");
}

/* Whether two ids have the same bytes. */
static bool
SameId(const IdRef *x, const IdRef *y)
{
	return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
}

/* Orders ids by their bytes, then by position. */
static int
CompareIdRefs(const void *a, const void *b)
{
	const IdRef *x = (const IdRef *) a;
	const IdRef *y = (const IdRef *) b;
	int			cmp = memcmp(x->data, y->data, Min(x->len, y->len));

	if (cmp != 0)
		return cmp;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->pos < y->pos ? -1 : (x->pos > y->pos ? 1 : 0);
}

/*
 * Refuses a list that repeats an id, naming the first repetition in list
 * order and the position of the id's first occurrence (SQL subscripts).
 */
static void
CheckNoDuplicates(const IdList *list, int lower_bound, const char *param)
{
	IdRef	   *refs = palloc(sizeof(IdRef) * list->count);
	int32		repeat = -1;
	int32		first = -1;
	int32		end;

	for (int32 i = 0; i < list->count; i++)
	{
		text	   *t = (text *) DatumGetPointer(list->ids[i]);

		refs[i].data = VARDATA_ANY(t);
		refs[i].len = VARSIZE_ANY_EXHDR(t);
		refs[i].pos = i;
	}
	qsort(refs, list->count, sizeof(IdRef), CompareIdRefs);

	/* Each run of equal ids is sorted by position: its second is a repeat. */
	for (int32 start = 0; start < list->count; start = end)
	{
		for (end = start + 1; end < list->count && SameId(&refs[start], &refs[end]); end++)
			;
		if (end - start > 1 && (repeat < 0 || refs[start + 1].pos < repeat))
		{
			repeat = refs[start + 1].pos;
			first = refs[start].pos;
		}
	}
	if (repeat >= 0)
	{
		text	   *t = (text *) DatumGetPointer(list->ids[repeat]);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s contains %s more than once, at positions %d and %d",
						param, QuotedId(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)),
						lower_bound + first, lower_bound + repeat),
				 errhint("Each id may appear only once in %s.", param)));
	}
	pfree(refs);
}

/*
 * Reads argument argno as a list of ids and validates it: not NULL, one
 * dimension, not empty, no NULL or empty element, no duplicate. The
 * element datums point into the (detoasted) array, which lives in the
 * current memory context or in the caller's arguments.
 */
static IdList
ReadIdList(FunctionCallInfo fcinfo, int argno, const char *param)
{
	ArrayType  *array;
	IdList		list;
	bool	   *nulls;
	int			lower_bound;
	int			count;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NULL", param),
				 errhint("Pass a non-empty text array; array_agg over no rows gives NULL.")));
	array = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_ELEMTYPE(array) != TEXTOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s must be a text array", param)));
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array, got %d dimensions",
						param, ARR_NDIM(array))));
	if (ARR_NDIM(array) == 0 || ARR_DIMS(array)[0] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", param),
				 errhint("Pass at least one id.")));
	lower_bound = ARR_LBOUND(array)[0];

	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &list.ids, &nulls, &count);
	list.count = count;
	for (int32 i = 0; i < list.count; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not contain NULL, found one at position %d",
							param, lower_bound + i)));
		if (VARSIZE_ANY_EXHDR(DatumGetPointer(list.ids[i])) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not contain an empty id, found one at position %d",
							param, lower_bound + i)));
	}
	pfree(nulls);
	CheckNoDuplicates(&list, lower_bound, param);
	return list;
}

/* Reads a percentage argument: 1 to 100, not NULL. */
static int32
ReadPercentage(FunctionCallInfo fcinfo, int argno)
{
	int32		percentage;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_percentage must not be NULL"),
				 errhint("Give a percentage between 1 and 100; 100 selects every scenario.")));
	percentage = PG_GETARG_INT32(argno);
	if (percentage < 1 || percentage > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_percentage must be between 1 and 100, got %d", percentage)));
	return percentage;
}

/* Reads samples_per_scenario: 1 to 100; NULL means the setting. */
static int32
ReadSamplesPerScenario(FunctionCallInfo fcinfo, int argno)
{
	int32		samples;

	if (PG_ARGISNULL(argno))
		return ms_default_samples_per_scenario;
	samples = PG_GETARG_INT32(argno);
	if (samples < MS_MIN_SAMPLES_PER_SCENARIO || samples > MS_MAX_SAMPLES_PER_SCENARIO)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("samples_per_scenario must be between %d and %d, got %d",
						MS_MIN_SAMPLES_PER_SCENARIO, MS_MAX_SAMPLES_PER_SCENARIO, samples),
				 errhint("Pass NULL to use the setting multisample.default_samples_per_scenario.")));
	return samples;
}

/*
 * The selection seed: sample_seed if given (0 to 2^53 - 1), else the hash
 * of the definition id over its UTF-16 code units. *what describes the
 * seed's origin for the warning about a degenerate seed.
 */
static int64
ReadSeed(FunctionCallInfo fcinfo, int seed_argno, int definition_argno, char **what)
{
	text	   *definition;
	const char *utf8;
	int			len;
	int32		hash;

	if (!PG_ARGISNULL(seed_argno))
	{
		int64		seed = PG_GETARG_INT64(seed_argno);

		if (seed < 0 || seed > SELECTION_MAX_SEED)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sample_seed must be between 0 and " INT64_FORMAT ", got " INT64_FORMAT,
							SELECTION_MAX_SEED, seed),
					 errhint(seed < 0
							 ? "Negative seeds are refused; pass NULL to seed from the definition id."
							 : "The reference platform holds seeds as JavaScript numbers, exact only up to 2^53 - 1.")));
		*what = psprintf("sample_seed " INT64_FORMAT, seed);
		return seed;
	}
	if (PG_ARGISNULL(definition_argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("definition_id must not be NULL when sample_seed is NULL"),
				 errhint("Without a sample_seed the selection is seeded from the definition id.")));

	definition = PG_GETARG_TEXT_PP(definition_argno);
	len = VARSIZE_ANY_EXHDR(definition);
	utf8 = pg_server_to_any(VARDATA_ANY(definition), len, PG_UTF8);
	if (utf8 != VARDATA_ANY(definition))
		len = strlen(utf8);
	if (!SelectionHash(utf8, len, &hash))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("definition_id is not valid UTF-8")));
	*what = psprintf("definition_id %s (hash %d)",
					 QuotedId(VARDATA_ANY(definition), VARSIZE_ANY_EXHDR(definition)), hash);
	return SelectionSeedFromHash(hash);
}

/*
 * Selects from ids as the reference platform does and returns the number
 * kept; *order receives the positions of the whole shuffled list (the kept
 * ones first). Warns when the seed makes the shuffle a fixed rotation.
 */
static int32
SelectIds(const IdList *ids, int32 percentage, int64 seed, const char *what, int32 **order)
{
	int32	   *positions = palloc(sizeof(int32) * ids->count);

	for (int32 i = 0; i < ids->count; i++)
		positions[i] = i;
	*order = positions;
	if (percentage == 100)
		return ids->count;

	if (ids->count > 1 && SelectionSeedIsDegenerate(seed))
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("%s leaves the generator at 0: the scenario selection is not random", what),
				 errdetail("A seed that is a multiple of 2147483647 keeps the Park-Miller state at 0, "
						   "so the shuffle is a fixed rotation of the given order."),
				 errhint("Pass a sample_seed that is not a multiple of 2147483647.")));
	SelectionShuffle(positions, ids->count, seed);
	return (int32) SelectionTarget(ids->count, percentage);
}

/*
 * A copy of a text datum with the shortest header it can have, so that
 * forming a tuple only copies its bytes.
 */
static Datum
PackedText(Datum value)
{
	text	   *t = (text *) DatumGetPointer(value);
	Size		len = VARSIZE_ANY_EXHDR(t);
	char	   *copy;

	if (len + VARHDRSZ_SHORT > VARATT_SHORT_MAX)
		return PointerGetDatum(cstring_to_text_with_len(VARDATA_ANY(t), len));
	copy = palloc(len + VARHDRSZ_SHORT);
	SET_VARSIZE_SHORT(copy, len + VARHDRSZ_SHORT);
	memcpy(copy + VARHDRSZ_SHORT, VARDATA_ANY(t), len);
	return PointerGetDatum(copy);
}

/* select_scenarios(scenario_ids, sample_percentage, definition_id, sample_seed): the ids a run selects. */
Datum
select_scenarios(PG_FUNCTION_ARGS)
{
	IdList		ids = ReadIdList(fcinfo, 0, "scenario_ids");
	int32		percentage = ReadPercentage(fcinfo, 1);
	char	   *what;
	int64		seed = ReadSeed(fcinfo, 3, 2, &what);
	int32	   *order;
	int32		kept = SelectIds(&ids, percentage, seed, what, &order);
	Datum	   *selected = palloc(sizeof(Datum) * kept);

	for (int32 i = 0; i < kept; i++)
		selected[i] = ids.ids[order[i]];
	PG_RETURN_ARRAYTYPE_P(construct_array(selected, kept, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Checks that the declared result is (text, text, integer), so that a
 * mistaken CREATE FUNCTION cannot make the rows below unreadable.
 */
static TupleDesc
JobTupleDesc(FunctionCallInfo fcinfo)
{
	TupleDesc	desc;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE ||
		desc->natts != 3 ||
		TupleDescAttr(desc, 0)->atttypid != TEXTOID ||
		TupleDescAttr(desc, 1)->atttypid != TEXTOID ||
		TupleDescAttr(desc, 2)->atttypid != INT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("expand_run_jobs must be declared to return (text, text, integer)")));
	return BlessTupleDesc(desc);
}

/* Validates the arguments and prepares the per-call state of expand_run_jobs. */
static JobExpansion *
StartJobExpansion(FunctionCallInfo fcinfo, uint64 *total)
{
	IdList		scenarios = ReadIdList(fcinfo, 0, "scenario_ids");
	IdList		models = ReadIdList(fcinfo, 1, "model_ids");
	int32		samples = ReadSamplesPerScenario(fcinfo, 2);
	int32		percentage = ReadPercentage(fcinfo, 3);
	char	   *what;
	int64		seed = ReadSeed(fcinfo, 4, 5, &what);
	int32	   *order;
	int32		kept = SelectIds(&scenarios, percentage, seed, what, &order);
	JobExpansion *state = palloc0(sizeof(JobExpansion));
	int64		jobs;

	if (pg_mul_s64_overflow(kept, models.count, &jobs) ||
		pg_mul_s64_overflow(jobs, samples, &jobs))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("job count overflows bigint: %d scenarios x %d models x %d samples",
						kept, models.count, samples)));
	*total = (uint64) jobs;

	state->scenarios = palloc(sizeof(Datum) * kept);
	for (int32 i = 0; i < kept; i++)
		state->scenarios[i] = PackedText(scenarios.ids[order[i]]);
	state->models = palloc(sizeof(Datum) * models.count);
	for (int32 i = 0; i < models.count; i++)
		state->models[i] = PackedText(models.ids[i]);
	state->nscenarios = kept;
	state->nmodels = models.count;
	state->nsamples = samples;
	state->values[0] = state->scenarios[0];
	state->values[1] = state->models[0];
	return state;
}

/*
 * expand_run_jobs(scenario_ids, model_ids, samples_per_scenario,
 * sample_percentage, sample_seed, definition_id): the jobs of a run, one
 * row per call.
 */
Datum
expand_run_jobs(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	JobExpansion *state;
	HeapTuple	tuple;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcontext;

		funcctx = SRF_FIRSTCALL_INIT();
		oldcontext = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		funcctx->tuple_desc = JobTupleDesc(fcinfo);
		funcctx->user_fctx = StartJobExpansion(fcinfo, &funcctx->max_calls);
		MemoryContextSwitchTo(oldcontext);
	}
	funcctx = SRF_PERCALL_SETUP();
	if (funcctx->call_cntr >= funcctx->max_calls)
		SRF_RETURN_DONE(funcctx);

	/* The row lives in the per-call context, which the executor resets. */
	state = (JobExpansion *) funcctx->user_fctx;
	state->values[2] = Int32GetDatum(state->sample);
	tuple = heap_form_tuple(funcctx->tuple_desc, state->values, state->nulls);

	/* Advance: sample index fastest, then scenario, then model. */
	if (++state->sample == state->nsamples)
	{
		state->sample = 0;
		if (++state->scenario == state->nscenarios)
		{
			state->scenario = 0;
			if (++state->model < state->nmodels)
				state->values[1] = state->models[state->model];
		}
		state->values[0] = state->scenarios[state->scenario];
	}
	SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(tuple));
}
