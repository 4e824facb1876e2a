/*
 * js_number.c
 *      SQL-callable js_number_text(numeric): a number printed as JavaScript
 *      prints it (String(Number(x)), ECMAScript Number::toString), for the
 *      reference-platform layout of export_run_csv. The reference platform
 *      reads a scenario dimension from JSON as a double and prints it with
 *      String(); this does the same from the jsonb number:
 *
 *      - the decimal value goes to the nearest double, as JSON.parse does:
 *        beyond the double range it becomes +-Infinity, below half the
 *        smallest subnormal +-0 (PostgreSQL's float8 cast raises instead);
 *      - the double is printed with the fewest significant digits that read
 *        back to it, the closest such digits when there is a choice
 *        (ECMAScript Number::toString), laid out by ECMAScript's rules:
 *        plain digits while the decimal exponent n (value = 0.d1d2... x
 *        10^n) is in -6 < n <= 21, else d1.d2...e+-(n-1); -0 prints as 0.
 *
 *      The digits are searched by precision, 1 to 17: the correctly rounded
 *      decimal of that precision (printf %.*e) and its two neighbours are
 *      read back with strtod (round-half-even, as JavaScript reads). The
 *      neighbours matter where the double's rounding interval is lopsided
 *      (at a power of two) or a decimal lies exactly on its edge:
 *      PostgreSQL's own shortest output (Ryu) does not use the edges, so it
 *      prints 263882700000000016384 as 2.6388270000000002e+20 where
 *      JavaScript prints 263882700000000000000.
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "compat.h"

PG_FUNCTION_INFO_V1(ms_js_number_text);

/*
 * Reads back a digit string d1d2...dk x 10^exponent; true when it is value.
 */
static bool
ReadsBackAs(const char *digits, int exponent, double value)
{
	char		text[64];

	snprintf(text, sizeof(text), "%se%d", digits, exponent);
	return strtod(text, NULL) == value;
}

/*
 * Adds delta (+1 or -1) to a k-digit decimal string in place; false when
 * the result does not have k digits (999 + 1, 100 - 1).
 */
static bool
StepDigits(char *digits, int k, int delta)
{
	for (int i = k - 1; i >= 0; i--)
	{
		int			d = digits[i] - '0' + delta;

		if (d >= 0 && d <= 9)
		{
			digits[i] = (char) ('0' + d);
			return digits[0] != '0';
		}
		digits[i] = delta > 0 ? '0' : '9';
	}
	return false;
}

/*
 * The shortest digits of a finite, positive double: value = digits x
 * 10^exponent, digits without trailing zeros. See the file comment.
 */
static void
ShortestDigits(double value, char *digits, int *exponent)
{
	for (int k = 1; k <= 17; k++)
	{
		char		text[64];
		char		candidate[24];
		int			e;

		/* "d.ddde+XX": k digits, the point after the first */
		snprintf(text, sizeof(text), "%.*e", k - 1, value);
		candidate[0] = text[0];
		memcpy(candidate + 1, text + 2, k - 1);
		candidate[k] = '\0';
		e = atoi(strchr(text, 'e') + 1) - (k - 1);

		if (!ReadsBackAs(candidate, e, value))
		{
			char		up[24];
			char		down[24];

			strcpy(up, candidate);
			strcpy(down, candidate);
			if (StepDigits(up, k, +1) && ReadsBackAs(up, e, value))
				strcpy(candidate, up);
			else if (StepDigits(down, k, -1) && ReadsBackAs(down, e, value))
				strcpy(candidate, down);
			else if (k < 17)
				continue;
		}
		/* found (17 digits always read back) */
		while (k > 1 && candidate[k - 1] == '0')
		{
			candidate[--k] = '\0';
			e++;
		}
		strcpy(digits, candidate);
		*exponent = e;
		return;
	}
}

/* Appends the ECMAScript form of a finite, positive double. */
static void
AppendJsPositive(StringInfo out, double value)
{
	char		digits[24];
	int			exponent;		/* value = digits x 10^exponent */
	int			ndigits;
	int			n;				/* value = 0.digits x 10^n */

	ShortestDigits(value, digits, &exponent);
	ndigits = (int) strlen(digits);
	n = ndigits + exponent;

	if (ndigits <= n && n <= 21)
	{
		/* an integer: the digits, then n - k zeros */
		appendStringInfoString(out, digits);
		for (int i = ndigits; i < n; i++)
			appendStringInfoChar(out, '0');
	}
	else if (0 < n && n <= 21)
	{
		/* the point inside the digits */
		appendBinaryStringInfo(out, digits, n);
		appendStringInfoChar(out, '.');
		appendStringInfoString(out, digits + n);
	}
	else if (-6 < n && n <= 0)
	{
		/* 0.000ddd */
		appendStringInfoString(out, "0.");
		for (int i = n; i < 0; i++)
			appendStringInfoChar(out, '0');
		appendStringInfoString(out, digits);
	}
	else
	{
		/* d.ddde+x / d.ddde-x */
		appendStringInfoChar(out, digits[0]);
		if (ndigits > 1)
		{
			appendStringInfoChar(out, '.');
			appendStringInfoString(out, digits + 1);
		}
		appendStringInfo(out, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
}

/* The number as JavaScript's String(Number(x)) prints it. */
Datum
ms_js_number_text(PG_FUNCTION_ARGS)
{
	char	   *decimal = DatumGetCString(DirectFunctionCall1(numeric_out, PG_GETARG_DATUM(0)));
	StringInfoData out;
	double		value;

	/*
	 * strtod rounds to nearest (the backend's LC_NUMERIC is C). Overflow
	 * gives +-HUGE_VAL and underflow +-0 or a subnormal with ERANGE, which is
	 * what JSON.parse yields, so ERANGE is not an error here. numeric_out
	 * writes NaN and +-Infinity in words strtod reads.
	 */
	value = strtod(decimal, NULL);

	initStringInfo(&out);
	if (isnan(value))
		appendStringInfoString(&out, "NaN");
	else if (isinf(value))
		appendStringInfoString(&out, value > 0 ? "Infinity" : "-Infinity");
	else if (value == 0.0)
		appendStringInfoChar(&out, '0');
	else
	{
		if (value < 0)
			appendStringInfoChar(&out, '-');
		AppendJsPositive(&out, fabs(value));
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}
