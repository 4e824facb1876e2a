/*
 * compat.h
 *      The one place where differences between PostgreSQL majors (13 to 19)
 *      are handled.
 *
 * Code elsewhere includes this header and calls the MS_ names below instead
 * of testing PG_VERSION_NUM. bin/test-versions builds with -Werror against
 * the headers of 13, 15, 17, 18 and 19.
 */
#ifndef MULTISAMPLE_COMPAT_H
#define MULTISAMPLE_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 130000
#error "multisample requires PostgreSQL 13 or later"
#endif

/*
 * MarkGUCPrefixReserved replaced EmitWarningsOnPlaceholders in 15. Before 15
 * nothing reserves a prefix: the old call only warns about placeholders that
 * exist when the library loads, and a misspelt multisample.* setting made
 * later is accepted (as a placeholder nothing reads). The pg_regress test
 * guc_prefix shows both behaviours (expected/guc_prefix_1.out is 13 and 14).
 */
#if PG_VERSION_NUM >= 150000
#define MS_RESERVE_GUC_PREFIX(prefix) MarkGUCPrefixReserved(prefix)
#else
#define MS_RESERVE_GUC_PREFIX(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * A function that never returns. 18 replaced pg_attribute_noreturn(),
 * written anywhere among the declaration specifiers, by pg_noreturn, which
 * must come first (it may be C11 _Noreturn). So MS_NORETURN is written first:
 *     MS_NORETURN pg_noinline static void ReportSomething(...)
 */
#if PG_VERSION_NUM >= 180000
#define MS_NORETURN pg_noreturn
#else
#define MS_NORETURN pg_attribute_noreturn()
#endif

#endif							/* MULTISAMPLE_COMPAT_H */
