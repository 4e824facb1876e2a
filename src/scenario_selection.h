/*
 * scenario_selection.h
 *      Deterministic scenario selection of the reference platform (SPEC 4.1):
 *      definition-id hash, Park-Miller generator, Fisher-Yates shuffle and
 *      the target-count rule. Plain C, no PostgreSQL dependency.
 */
#ifndef MULTISAMPLE_SCENARIO_SELECTION_H
#define MULTISAMPLE_SCENARIO_SELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Park-Miller "minimal standard" modulus, 2^31 - 1 (a prime). */
#define SELECTION_MODULUS 2147483647

/*
 * Largest accepted seed, 2^53 - 1: the reference platform keeps seeds in
 * JavaScript numbers, which hold every integer exactly only up to here.
 */
#define SELECTION_MAX_SEED INT64_C(9007199254740991)

/* The Park-Miller generator, with its state kept as the reference keeps it. */
typedef struct ParkMiller
{
	double		state;
} ParkMiller;

/*
 * Hash of a definition id given as UTF-8 (len bytes, no terminator needed):
 * h = h * 31 + c over its UTF-16 code units, wrapped to signed 32 bits.
 * Returns false, leaving *hash alone, if the bytes are not valid UTF-8.
 */
extern bool SelectionHash(const char *utf8, size_t len, int32_t *hash);

/* The seed a hash gives: |hash| in 64 bits, so -2^31 gives 2^31. */
extern int64_t SelectionSeedFromHash(int32_t hash);

/* Number of ids to keep: max(1, floor(n * percentage / 100)), n >= 1. */
extern int64_t SelectionTarget(int64_t n, int percentage);

/* Starts the generator at seed (0 <= seed <= SELECTION_MAX_SEED). */
extern void ParkMillerInit(ParkMiller *gen, int64_t seed);

/* Steps the generator and returns state / 2147483647, in [0, 1). */
extern double ParkMillerNext(ParkMiller *gen);

/*
 * Whether a seed leaves the generator at 0 for ever (the selection is then
 * a fixed rotation, not random): true exactly when the first step gives 0.
 */
extern bool SelectionSeedIsDegenerate(int64_t seed);

/*
 * Fisher-Yates shuffle of items[0 .. n-1] in place, from the last index
 * down to 1, drawing j = floor(next * (i + 1)): always n - 1 draws.
 */
extern void SelectionShuffle(int32_t *items, int32_t n, int64_t seed);

#endif							/* MULTISAMPLE_SCENARIO_SELECTION_H */
