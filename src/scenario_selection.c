/*
 * scenario_selection.c
 *      Deterministic scenario selection, bit for bit as the reference
 *      platform (JavaScript) does it (SPEC 4.1). No PostgreSQL dependency.
 *
 * How the reference computes, and how this file mirrors it:
 *
 * - Hash: over the UTF-16 code units of the id (String.charCodeAt), so a
 *   character outside the Basic Multilingual Plane counts as its two
 *   surrogates. h = h * 31 + c is wrapped to signed 32 bits; here the wrap is
 *   done in uint32_t (no signed overflow) and converted back explicitly.
 *   The seed is |h| in 64 bits, so -2^31 gives 2^31.
 *
 * - Generator: the reference keeps the state in a double and computes
 *   state = (state * 16807) % 2147483647. The seed is used as the first state
 *   as it is, without reducing it modulo 2147483647 first. So does this
 *   file, in double arithmetic with the same operations:
 *     * every state after the first step is below 2^31, so state * 16807 is
 *       below 2^46 and exact; fmod is always exact; the result is the exact
 *       Lehmer step;
 *     * the first step multiplies the seed itself. For seeds up to
 *       floor(2^53 / 16807) = 535919512985 the product is exact too and the
 *       step equals the textbook ((seed mod m) * 16807) mod m. Above that the
 *       reference rounds the product to the nearest double before taking the
 *       remainder; the same IEEE multiplication here rounds the same way, so
 *       the selection stays the reference's for every accepted seed
 *       (0 .. 2^53 - 1, the integers a JavaScript number holds exactly).
 *   The value drawn is state / 2147483647, a double in [0, 1).
 *
 * - A seed whose first step gives 0 (a multiple of 2147483647, including 0)
 *   keeps the state at 0 for ever: every draw is 0, every swap is with item
 *   0, and the shuffle is a fixed rotation by one. Since 2147483647 is prime,
 *   a non-zero state never reaches 0, so that is the only degenerate case.
 *
 * - Fisher-Yates from the last index down to 1, j = floor(next * (i + 1)) in
 *   double arithmetic. next <= (m - 1) / m, so next * (i + 1) stays more than
 *   (i + 1) / m below i + 1, far more than the rounding error: j <= i.
 */
#include "scenario_selection.h"

#include <math.h>

/* Multiplier of the minimal standard generator. */
#define SELECTION_MULTIPLIER 16807.0

/*
 * Decodes one UTF-8 character at s[*pos] (strict RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) into *cp and advances *pos.
 * Returns false on malformed or truncated input.
 */
static bool
DecodeUtf8Char(const unsigned char *s, size_t len, size_t *pos, uint32_t *cp)
{
	size_t		i = *pos;
	uint32_t	c = s[i];
	uint32_t	min;
	int			extra;

	if (c < 0x80)
	{
		*cp = c;
		*pos = i + 1;
		return true;
	}
	if (c >= 0xC2 && c <= 0xDF)
	{
		c &= 0x1F;
		extra = 1;
		min = 0x80;
	}
	else if (c >= 0xE0 && c <= 0xEF)
	{
		c &= 0x0F;
		extra = 2;
		min = 0x800;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		c &= 0x07;
		extra = 3;
		min = 0x10000;
	}
	else
		return false;

	if (len - i - 1 < (size_t) extra)
		return false;
	for (int k = 1; k <= extra; k++)
	{
		uint32_t	b = s[i + k];

		if ((b & 0xC0) != 0x80)
			return false;
		c = (c << 6) | (b & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return false;
	*cp = c;
	*pos = i + 1 + extra;
	return true;
}

bool
SelectionHash(const char *utf8, size_t len, int32_t *hash)
{
	const unsigned char *s = (const unsigned char *) utf8;
	uint32_t	h = 0;
	size_t		pos = 0;

	while (pos < len)
	{
		uint32_t	cp;

		if (!DecodeUtf8Char(s, len, &pos, &cp))
			return false;
		if (cp < 0x10000)
			h = h * 31u + cp;
		else
		{
			/* Outside the BMP: the high surrogate, then the low one. */
			cp -= 0x10000;
			h = h * 31u + (0xD800u + (cp >> 10));
			h = h * 31u + (0xDC00u + (cp & 0x3FFu));
		}
	}

	/* Back to signed 32 bits without relying on implementation behaviour. */
	if (h <= (uint32_t) INT32_MAX)
		*hash = (int32_t) h;
	else
		*hash = -(int32_t) (UINT32_MAX - h) - 1;
	return true;
}

int64_t
SelectionSeedFromHash(int32_t hash)
{
	return hash < 0 ? -(int64_t) hash : (int64_t) hash;
}

int64_t
SelectionTarget(int64_t n, int percentage)
{
	int64_t		target = n * percentage / 100;

	return target < 1 ? 1 : target;
}

void
ParkMillerInit(ParkMiller *gen, int64_t seed)
{
	/* Exact: seeds are at most 2^53 - 1. */
	gen->state = (double) seed;
}

double
ParkMillerNext(ParkMiller *gen)
{
	gen->state = fmod(gen->state * SELECTION_MULTIPLIER, (double) SELECTION_MODULUS);
	return gen->state / (double) SELECTION_MODULUS;
}

bool
SelectionSeedIsDegenerate(int64_t seed)
{
	ParkMiller	gen;

	ParkMillerInit(&gen, seed);
	return ParkMillerNext(&gen) == 0.0;
}

void
SelectionShuffle(int32_t *items, int32_t n, int64_t seed)
{
	ParkMiller	gen;

	ParkMillerInit(&gen, seed);
	for (int32_t i = n - 1; i > 0; i--)
	{
		int32_t		j = (int32_t) floor(ParkMillerNext(&gen) * (double) (i + 1));
		int32_t		tmp = items[i];

		items[i] = items[j];
		items[j] = tmp;
	}
}
