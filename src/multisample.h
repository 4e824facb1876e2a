/*
 * multisample.h
 *      Module-wide declarations: the settings (GUCs) the extension defines.
 */
#ifndef MULTISAMPLE_H
#define MULTISAMPLE_H

/* Allowed range of samples per scenario, for the GUC and for arguments. */
#define MS_MIN_SAMPLES_PER_SCENARIO 1
#define MS_MAX_SAMPLES_PER_SCENARIO 100

/* multisample.default_samples_per_scenario: used when a run gives no count. */
extern int	ms_default_samples_per_scenario;

#endif							/* MULTISAMPLE_H */
