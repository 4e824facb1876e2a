/*
 * multisample.c
 *      Module entry point: the PG_MODULE_MAGIC block and the settings (GUCs)
 *      of the extension.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "compat.h"
#include "multisample.h"

PG_MODULE_MAGIC;

int			ms_default_samples_per_scenario = 1;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("multisample.default_samples_per_scenario",
							"Samples per scenario-model pair when a run does not give a count.",
							"Set per role or database with ALTER ROLE ... SET or ALTER DATABASE ... SET.",
							&ms_default_samples_per_scenario,
							1,
							MS_MIN_SAMPLES_PER_SCENARIO,
							MS_MAX_SAMPLES_PER_SCENARIO,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	MS_RESERVE_GUC_PREFIX("multisample");
}
