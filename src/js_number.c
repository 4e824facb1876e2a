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
 *        back to it (PostgreSQL's shortest-decimal conversion, Ryu: when
 *        several such digit strings exist it picks the closest, as
 *        ECMAScript requires), laid out by ECMAScript's rules: plain digits
 *        while the decimal exponent n (value = 0.d1d2... x 10^n) is in
 *        -6 < n <= 21, else d1.d2...e+-(n-1); "-0" prints as "0".
 */
#include "postgres.h"

#include <math.h>
#include <stdlib.h>

#include "common/shortest_dec.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "compat.h"

PG_FUNCTION_INFO_V1(ms_js_number_text);

/*
 * Appends the ECMAScript form of a finite, positive double. The shortest
 * digits come from PostgreSQL's shortest-decimal output ("1.5e-07",
 * "123.25", "1e+21" ...), read back into a digit string and an exponent.
 */
static void
AppendJsPositive(StringInfo out, double value)
{
	char		shortest[DOUBLE_SHORTEST_DECIMAL_LEN];
	char		digits[DOUBLE_SHORTEST_DECIMAL_LEN];
	int			ndigits = 0;
	int			exponent = 0;	/* value = digits x 10^exponent */
	int			n;				/* value = 0.digits x 10^n */
	bool		after_point = false;
	const char *p;

	double_to_shortest_decimal_buf(value, shortest);
	for (p = shortest; *p != '\0' && *p != 'e'; p++)
	{
		if (*p == '.')
			after_point = true;
		else
		{
			if (after_point)
				exponent--;
			if (ndigits > 0 || *p != '0')	/* no leading zeros */
				digits[ndigits++] = *p;
		}
	}
	if (*p == 'e')
		exponent += atoi(p + 1);
	while (ndigits > 1 && digits[ndigits - 1] == '0')
	{
		ndigits--;
		exponent++;
	}
	digits[ndigits] = '\0';
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
