/*
 * selection_kernel.c
 *      Test driver for src/scenario_selection.c outside PostgreSQL (built by
 *      test/selection_kernel.sh with AddressSanitizer and UBSan). Reads
 *      commands on stdin, one a line, and answers each on stdout:
 *        hash <hex bytes>                 -> <signed hash> | invalid
 *        select <seed> <percentage> <n>   -> <target> <degenerate 0|1> <shuffled indexes>
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_selection.h"

static void
Hash(const char *hex)
{
	size_t		len = strlen(hex) / 2;

	/* Exactly len bytes, no terminator: AddressSanitizer sees any overrun. */
	char	   *bytes = malloc(len ? len : 1);
	int32_t		hash;

	for (size_t i = 0; i < len; i++)
	{
		unsigned int b;

		sscanf(hex + 2 * i, "%2x", &b);
		bytes[i] = (char) b;
	}
	if (SelectionHash(bytes, len, &hash))
		printf("%" PRId32 "\n", hash);
	else
		printf("invalid\n");
	free(bytes);
}

static void
Select(int64_t seed, int percentage, int32_t n)
{
	int32_t    *items = malloc(sizeof(int32_t) * (n ? n : 1));
	int64_t		target = SelectionTarget(n, percentage);

	for (int32_t i = 0; i < n; i++)
		items[i] = i;
	if (percentage < 100)
		SelectionShuffle(items, n, seed);
	else
		target = n;
	printf("%" PRId64 " %d", target, SelectionSeedIsDegenerate(seed) ? 1 : 0);
	for (int32_t i = 0; i < n; i++)
		printf(" %" PRId32, items[i]);
	printf("\n");
	free(items);
}

int
main(void)
{
	char		line[1 << 16];

	while (fgets(line, sizeof(line), stdin))
	{
		char		hex[1 << 16];
		long long	seed;
		int			percentage;
		int			n;

		if (sscanf(line, "hash %65535s", hex) == 1)
			Hash(hex);
		else if (strcmp(line, "hash\n") == 0)
			Hash("");
		else if (sscanf(line, "select %lld %d %d", &seed, &percentage, &n) == 3)
			Select((int64_t) seed, percentage, (int32_t) n);
		else
		{
			fprintf(stderr, "bad command: %s", line);
			return 2;
		}
	}
	printf("seed_of_min %" PRId64 "\n", SelectionSeedFromHash(INT32_MIN));
	return 0;
}
