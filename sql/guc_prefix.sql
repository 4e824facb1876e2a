-- A misspelt multisample.* setting. The one test whose expected output
-- differs by major, kept apart so that its alternative file stays small:
--   expected/guc_prefix.out    15 and later: the extension reserves its
--       prefix when its library loads (MarkGUCPrefixReserved), so the typo
--       is refused (42602) and there is no such setting to show;
--   expected/guc_prefix_1.out  13 and 14: no call reserves a prefix
--       (EmitWarningsOnPlaceholders only warns about placeholders that exist
--       when the library loads), so the typo is accepted as a placeholder
--       that nothing reads.
-- On every major the typo changes nothing: the jobs still follow the real
-- setting. (src/compat.h, MS_RESERVE_GUC_PREFIX.)

-- Load the library (a C function), which defines and reserves the settings.
SELECT count(*) AS jobs FROM multisample.expand_run_jobs('{a}', '{m}');
SET multisample.default_sample_per_scenario = 2;
SHOW multisample.default_sample_per_scenario;
SHOW multisample.default_samples_per_scenario;
SELECT count(*) AS jobs, max(sample_index) AS max_index FROM multisample.expand_run_jobs('{a,b}', '{m1,m2}');
RESET multisample.default_sample_per_scenario;
