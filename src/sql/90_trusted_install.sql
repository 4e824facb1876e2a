
-------------------------------------------------------------------------------
-- Trusted install: the role that runs CREATE EXTENSION (or ALTER EXTENSION
-- UPDATE) gets every right on the extension's tables, with GRANT OPTION.
-------------------------------------------------------------------------------
-- The control file says trusted = true: a database owner without superuser
-- may install the extension, and its scripts then run as the bootstrap
-- superuser, who owns every object they create. Without this grant the
-- installing role could not read or write the extension's own tables, nor
-- hand rights on to a dashboard or worker role (README, "Least privilege").
-- For a superuser install @extowner@ is that superuser and this changes
-- nothing. pg_dump keeps these as the objects' initial privileges.
GRANT ALL ON ALL TABLES IN SCHEMA @extschema@ TO @extowner@ WITH GRANT OPTION;
GRANT ALL ON ALL SEQUENCES IN SCHEMA @extschema@ TO @extowner@ WITH GRANT OPTION;
