/*
 * compat.h
 *      The one place where differences between PostgreSQL 13-17 are handled.
 *
 * Code elsewhere includes this header instead of testing PG_VERSION_NUM.
 */
#ifndef MULTISAMPLE_COMPAT_H
#define MULTISAMPLE_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 130000
#error "multisample requires PostgreSQL 13 or later"
#endif

/* MarkGUCPrefixReserved replaced EmitWarningsOnPlaceholders in 15. */
#if PG_VERSION_NUM >= 150000
#define MS_RESERVE_GUC_PREFIX(prefix) MarkGUCPrefixReserved(prefix)
#else
#define MS_RESERVE_GUC_PREFIX(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

#endif							/* MULTISAMPLE_COMPAT_H */
