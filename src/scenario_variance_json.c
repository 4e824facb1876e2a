/*
 * scenario_variance_json.c
 *      The aggregate scenario_variance_document(document, ...): the
 *      document of analysis_json with its scenarioVariance array, built
 *      straight into jsonb from the per-pair rows in rank order.
 *
 * The array is most of the document (for 1000 scenarios x 10 models,
 * 10,000 per-model objects of six numbers, about 1.8 MB). Built as json
 * text and cast to jsonb, every number was printed, then parsed again with
 * the whole text; added to a jsonb document with jsonb_build_object and ||,
 * the array was unpacked and packed again twice. Here each value becomes a
 * JsonbValue once, the rest of the document (a small jsonb object, given as
 * the first argument) joins it as a tree, and the whole is serialised once.
 * The result is the jsonb the text route gives, byte for byte: numbers go
 * through the same output function (float8out, so extra_float_digits
 * applies as before) and numeric_in, integers straight to numeric (the same
 * value numeric_in makes of their digits); non-finite floats
 * become strings, as json_build_object writes them; the keys of each object
 * are ordered as jsonb orders them (shorter first, then bytewise) and a
 * repeated key keeps its last value, as jsonb keeps the last of duplicate
 * keys (so scenarioVariance replaces one the document may have).
 *
 * Input: the document (an object; taken from the first row), then one row
 * per scenario-model pair, the rows of one scenario consecutive (a new
 * scenario_id starts a new entry, whose scenario fields are those of its
 * first row).
 */
#include "postgres.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "compat.h"

PG_FUNCTION_INFO_V1(ms_scenario_variance_accum);
PG_FUNCTION_INFO_V1(ms_scenario_variance_final);

/* Argument positions of the transition function (0 is the state). */
enum
{
	ARG_DOCUMENT = 1,
	ARG_SCENARIO_ID,
	ARG_SCENARIO_NAME,
	ARG_MEAN_VARIANCE,
	ARG_RANK,
	ARG_MODEL_ID,
	ARG_SAMPLE_COUNT,
	ARG_MEAN,
	ARG_STD_DEV,
	ARG_VARIANCE,
	ARG_MIN,
	ARG_MAX
};

#define PAIR_OBJECT_FIELDS 6
#define ENTRY_FIELDS 5

/* One scenario: its fields and its per-model objects so far. */
typedef struct ScenarioEntry
{
	JsonbValue	scenario_id;
	JsonbValue	scenario_name;
	JsonbValue	mean_variance;
	JsonbValue	rank;
	JsonbPair  *models;
	int			model_count;
	int			model_capacity;
} ScenarioEntry;

typedef struct ScenarioVarianceState
{
	Jsonb	   *document;
	ScenarioEntry *entries;
	int			entry_count;
	int			entry_capacity;
} ScenarioVarianceState;

/* jsonb's order of object keys: shorter first, then bytewise. */
static int
CompareKeys(const JsonbValue *a, const JsonbValue *b)
{
	if (a->val.string.len != b->val.string.len)
		return a->val.string.len > b->val.string.len ? 1 : -1;
	return memcmp(a->val.string.val, b->val.string.val, a->val.string.len);
}

/* Keys in jsonb order; of equal keys the later pair first. */
static int
ComparePairs(const void *left, const void *right)
{
	const JsonbPair *a = left;
	const JsonbPair *b = right;
	int			result = CompareKeys(&a->key, &b->key);

	if (result != 0 || a->order == b->order)
		return result;
	return a->order > b->order ? -1 : 1;
}

/* An object value from pairs in any order: sorted, the last of a key kept. */
static void
SetObject(JsonbValue *object, JsonbPair *pairs, int count)
{
	int			kept = 0;

	if (count > 1)
		qsort(pairs, count, sizeof(JsonbPair), ComparePairs);
	for (int i = 0; i < count; i++)
		if (kept == 0 || CompareKeys(&pairs[kept - 1].key, &pairs[i].key) != 0)
			pairs[kept++] = pairs[i];
	object->type = jbvObject;
	object->val.object.nPairs = kept;
	object->val.object.pairs = pairs;
}

static void
SetString(JsonbValue *value, char *text)
{
	size_t		length = strlen(text);

	if (length > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("string too long to represent as jsonb string"),
				 errdetail("Due to an implementation restriction, jsonb strings cannot exceed %d bytes.",
						   JENTRY_OFFLENMASK)));
	value->type = jbvString;
	value->val.string.val = text;
	value->val.string.len = (int) length;
}

static void
SetTextArgument(JsonbValue *value, FunctionCallInfo fcinfo, int arg)
{
	if (PG_ARGISNULL(arg))
		value->type = jbvNull;
	else
		SetString(value, text_to_cstring(PG_GETARG_TEXT_PP(arg)));
}

/* A number as json_build_object prints it and the jsonb cast reads it. */
static void
SetNumberText(JsonbValue *value, char *printed, bool finite)
{
	if (!finite)
	{
		SetString(value, printed);
		return;
	}
	value->type = jbvNumeric;
	value->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
															 CStringGetDatum(printed),
															 ObjectIdGetDatum(InvalidOid),
															 Int32GetDatum(-1)));
}

static void
SetFloatArgument(JsonbValue *value, FunctionCallInfo fcinfo, int arg)
{
	if (PG_ARGISNULL(arg))
	{
		value->type = jbvNull;
		return;
	}
	SetNumberText(value, DatumGetCString(DirectFunctionCall1(float8out, PG_GETARG_DATUM(arg))),
				  isfinite(PG_GETARG_FLOAT8(arg)));
}

static void
SetIntegerArgument(JsonbValue *value, FunctionCallInfo fcinfo, int arg)
{
	if (PG_ARGISNULL(arg))
	{
		value->type = jbvNull;
		return;
	}
	/* the numeric numeric_in makes of int8out's digits */
	value->type = jbvNumeric;
	value->val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric, PG_GETARG_DATUM(arg)));
}

static void
SetKey(JsonbPair *pair, char *key, int order)
{
	SetString(&pair->key, key);
	pair->order = order;
}

/* Room for one more element of size bytes in *items (capacity doubles). */
static void *
Grow(void *items, int count, int *capacity, Size size)
{
	if (count < *capacity)
		return items;
	*capacity = *capacity == 0 ? 16 : *capacity * 2;
	if (items == NULL)
		return palloc(*capacity * size);
	return repalloc(items, *capacity * size);
}

static ScenarioEntry *
StartEntry(ScenarioVarianceState *state, FunctionCallInfo fcinfo)
{
	ScenarioEntry *entry;

	state->entries = Grow(state->entries, state->entry_count, &state->entry_capacity,
						  sizeof(ScenarioEntry));
	entry = &state->entries[state->entry_count++];
	memset(entry, 0, sizeof(ScenarioEntry));
	SetTextArgument(&entry->scenario_id, fcinfo, ARG_SCENARIO_ID);
	SetTextArgument(&entry->scenario_name, fcinfo, ARG_SCENARIO_NAME);
	SetFloatArgument(&entry->mean_variance, fcinfo, ARG_MEAN_VARIANCE);
	SetIntegerArgument(&entry->rank, fcinfo, ARG_RANK);
	return entry;
}

/*
 * A jsonb container as a JsonbValue tree: JsonbValueToJsonb takes no
 * binary values. Strings and numbers keep pointing into the container.
 */
static void
SetFromContainer(JsonbValue *out, JsonbContainer *container)
{
	JsonbIterator *iterator = JsonbIteratorInit(container);
	JsonbIteratorToken token;
	JsonbValue	value;
	int			count = 0;

	check_stack_depth();
	token = JsonbIteratorNext(&iterator, &value, true);
	if (token == WJB_BEGIN_ARRAY)
	{
		out->type = jbvArray;
		out->val.array.rawScalar = value.val.array.rawScalar;
		out->val.array.elems = palloc(Max(value.val.array.nElems, 1) * sizeof(JsonbValue));
		while ((token = JsonbIteratorNext(&iterator, &value, true)) == WJB_ELEM)
		{
			if (value.type == jbvBinary)
				SetFromContainer(&out->val.array.elems[count], value.val.binary.data);
			else
				out->val.array.elems[count] = value;
			count++;
		}
		out->val.array.nElems = count;
		return;
	}
	/* an object: its keys are sorted and unique already */
	out->type = jbvObject;
	out->val.object.pairs = palloc(Max(value.val.object.nPairs, 1) * sizeof(JsonbPair));
	while ((token = JsonbIteratorNext(&iterator, &value, true)) == WJB_KEY)
	{
		JsonbPair  *pair = &out->val.object.pairs[count];

		pair->key = value;
		pair->order = count;
		token = JsonbIteratorNext(&iterator, &value, true);
		Assert(token == WJB_VALUE);
		if (value.type == jbvBinary)
			SetFromContainer(&pair->value, value.val.binary.data);
		else
			pair->value = value;
		count++;
	}
	out->val.object.nPairs = count;
}

/* The scenarioVariance array of the rows aggregated so far. */
static void
SetScenarioArray(JsonbValue *array, ScenarioVarianceState *state)
{
	array->type = jbvArray;
	array->val.array.rawScalar = false;
	array->val.array.nElems = state->entry_count;
	array->val.array.elems = palloc(Max(state->entry_count, 1) * sizeof(JsonbValue));
	for (int i = 0; i < state->entry_count; i++)
	{
		ScenarioEntry *entry = &state->entries[i];
		JsonbPair  *fields = palloc(ENTRY_FIELDS * sizeof(JsonbPair));
		JsonbPair  *models = palloc(Max(entry->model_count, 1) * sizeof(JsonbPair));

		SetKey(&fields[0], "scenarioId", 0);
		fields[0].value = entry->scenario_id;
		SetKey(&fields[1], "scenarioName", 1);
		fields[1].value = entry->scenario_name;
		SetKey(&fields[2], "meanVariance", 2);
		fields[2].value = entry->mean_variance;
		SetKey(&fields[3], "rank", 3);
		fields[3].value = entry->rank;
		/* sorted in a copy: the state may take more rows after this call */
		memcpy(models, entry->models, entry->model_count * sizeof(JsonbPair));
		SetKey(&fields[4], "perModel", 4);
		SetObject(&fields[4].value, models, entry->model_count);
		SetObject(&array->val.array.elems[i], fields, ENTRY_FIELDS);
	}
}

Datum
ms_scenario_variance_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggregate_context;
	MemoryContext caller_context;
	ScenarioVarianceState *state;
	ScenarioEntry *entry;
	JsonbPair  *model;
	JsonbPair  *fields;
	char	   *scenario_id;

	if (!AggCheckCallContext(fcinfo, &aggregate_context))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("scenario_variance_accum can only be called as the transition function of scenario_variance_document")));
	if (PG_ARGISNULL(ARG_DOCUMENT) || PG_ARGISNULL(ARG_SCENARIO_ID) || PG_ARGISNULL(ARG_MODEL_ID))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("scenario_variance_document: %s must not be NULL",
						PG_ARGISNULL(ARG_DOCUMENT) ? "document" :
						PG_ARGISNULL(ARG_SCENARIO_ID) ? "scenario_id" : "model_id"),
				 errhint("Pass a jsonb object and the rows of scenario_variance: every pair has a scenario and a model.")));

	caller_context = MemoryContextSwitchTo(aggregate_context);
	if (PG_ARGISNULL(0))
	{
		state = palloc0(sizeof(ScenarioVarianceState));
		state->document = PG_GETARG_JSONB_P_COPY(ARG_DOCUMENT);
		if (!JB_ROOT_IS_OBJECT(state->document))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("scenario_variance_document: document must be a jsonb object")));
	}
	else
		state = (ScenarioVarianceState *) PG_GETARG_POINTER(0);

	scenario_id = text_to_cstring(PG_GETARG_TEXT_PP(ARG_SCENARIO_ID));
	entry = state->entry_count > 0 ? &state->entries[state->entry_count - 1] : NULL;
	if (entry == NULL || strcmp(entry->scenario_id.val.string.val, scenario_id) != 0)
		entry = StartEntry(state, fcinfo);
	pfree(scenario_id);

	entry->models = Grow(entry->models, entry->model_count, &entry->model_capacity,
						 sizeof(JsonbPair));
	model = &entry->models[entry->model_count];
	SetKey(model, text_to_cstring(PG_GETARG_TEXT_PP(ARG_MODEL_ID)), entry->model_count);
	entry->model_count++;

	fields = palloc(PAIR_OBJECT_FIELDS * sizeof(JsonbPair));
	SetKey(&fields[0], "sampleCount", 0);
	SetIntegerArgument(&fields[0].value, fcinfo, ARG_SAMPLE_COUNT);
	SetKey(&fields[1], "mean", 1);
	SetFloatArgument(&fields[1].value, fcinfo, ARG_MEAN);
	SetKey(&fields[2], "stdDev", 2);
	SetFloatArgument(&fields[2].value, fcinfo, ARG_STD_DEV);
	SetKey(&fields[3], "variance", 3);
	SetFloatArgument(&fields[3].value, fcinfo, ARG_VARIANCE);
	SetKey(&fields[4], "min", 4);
	SetFloatArgument(&fields[4].value, fcinfo, ARG_MIN);
	SetKey(&fields[5], "max", 5);
	SetFloatArgument(&fields[5].value, fcinfo, ARG_MAX);
	SetObject(&model->value, fields, PAIR_OBJECT_FIELDS);

	MemoryContextSwitchTo(caller_context);
	PG_RETURN_POINTER(state);
}

Datum
ms_scenario_variance_final(PG_FUNCTION_ARGS)
{
	ScenarioVarianceState *state;
	JsonbValue	document;
	JsonbPair  *pairs;
	JsonbPair  *added;
	int			count;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("scenario_variance_final can only be called as the final function of scenario_variance_document")));
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (ScenarioVarianceState *) PG_GETARG_POINTER(0);

	SetFromContainer(&document, &state->document->root);
	count = document.val.object.nPairs;
	pairs = palloc((count + 1) * sizeof(JsonbPair));
	memcpy(pairs, document.val.object.pairs, count * sizeof(JsonbPair));
	added = &pairs[count];
	SetKey(added, "scenarioVariance", count);
	SetScenarioArray(&added->value, state);
	SetObject(&document, pairs, count + 1);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(&document));
}
