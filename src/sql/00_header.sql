-- multisample 1.0 -> 1.1: multi-sample runs.
--
-- CREATE EXTENSION installs 1.0 and then runs this script, so a fresh
-- install and an upgraded one are the same by construction. Every name is
-- schema-qualified: nothing here depends on the caller's search_path.

\echo Use "ALTER EXTENSION multisample UPDATE TO '1.1'" to load this file. \quit
