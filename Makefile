# PGXS build for the multisample extension.
#
#   make                      build (add WERROR=1 to turn warnings into errors)
#   make install              install into the server found by pg_config
#   make installcheck         run the pg_regress suite in sql/ against a running server
#
# The extension version is written once, in META.json; the control file is
# generated from multisample.control.in with it.

EXTENSION   = multisample
EXTVERSION := $(shell sed -n 's/^   "version": *"\([0-9]*\.[0-9]*\)\.[0-9]*".*/\1/p' META.json)

MODULE_big  = multisample
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
PGFILEDESC  = "multisample - multi-sample evaluation runs and variance statistics"

DATA        = multisample--1.0.sql multisample--1.0--1.1.sql
EXTRA_CLEAN = multisample.control

# pg_regress: the upgrade test runs first (it creates 1.0, walks the upgrade
# chain and leaves a fresh 1.1 install for the tests after it).
REGRESS_ALL = $(sort $(patsubst sql/%.sql,%,$(wildcard sql/*.sql)))
REGRESS     = upgrade $(filter-out upgrade,$(REGRESS_ALL))

# Statistics code must never be compiled with reassociating math.
# PostgreSQL's own headers trip -Wunused-parameter and
# -Wmissing-field-initializers, so those two stay off (as in PG's -Wextra builds).
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -fno-fast-math $(if $(WERROR),-Werror)
PG_CPPFLAGS = -I$(srcdir)/src

PG_CONFIG  ?= pg_config
PGXS       := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

all: multisample.control

multisample.control: multisample.control.in META.json
	sed 's/@EXTVERSION@/$(EXTVERSION)/' $< > $@
