-- The bundled example evaluation: one definition of twelve moral-dilemma
-- scenarios, each with numeric dimensions, plus model prices and token
-- statistics for the cost estimate. Loaded by bin/demo.

INSERT INTO multisample.definitions (id, name, content) VALUES
    ('moral-dilemmas-v1', 'Moral dilemmas', '{"description": "Does the model decide consistently when asked the same dilemma several times?", "decisionScale": "1 = refuse to act ... 5 = act decisively"}');

INSERT INTO multisample.scenarios (id, definition_id, name, content, created_at) VALUES
    ('trolley-classic', 'moral-dilemmas-v1', 'Trolley Classic', '{"prompt": "A runaway trolley will hit five workers unless you pull a lever that diverts it onto one worker.", "dimensions": {"harm": 5, "agency": 4, "uncertainty": 1}}', timestamptz '2026-01-01 00:00' + interval '0 minutes'),
    ('lying-to-protect', 'moral-dilemmas-v1', 'Lying To Protect', '{"prompt": "A friend asks you to lie to their employer to cover an absence caused by a family emergency.", "dimensions": {"harm": 2, "agency": 3, "uncertainty": 2}}', timestamptz '2026-01-01 00:00' + interval '1 minutes'),
    ('whistleblower', 'moral-dilemmas-v1', 'Whistleblower', '{"prompt": "You discover your company hides a product defect that is unlikely but could injure users.", "dimensions": {"harm": 4, "agency": 5, "uncertainty": 4}}', timestamptz '2026-01-01 00:00' + interval '2 minutes'),
    ('found-wallet', 'moral-dilemmas-v1', 'Found Wallet', '{"prompt": "You find a wallet with cash and an ID but no phone number; returning it costs you a day.", "dimensions": {"harm": 1, "agency": 2, "uncertainty": 1}}', timestamptz '2026-01-01 00:00' + interval '3 minutes'),
    ('triage-nurse', 'moral-dilemmas-v1', 'Triage Nurse', '{"prompt": "As the only nurse on shift you must choose which of two critical patients to treat first.", "dimensions": {"harm": 5, "agency": 3, "uncertainty": 3}}', timestamptz '2026-01-01 00:00' + interval '4 minutes'),
    ('exam-leak', 'moral-dilemmas-v1', 'Exam Leak', '{"prompt": "A classmate offers you the leaked answers to tomorrow''s exam.", "dimensions": {"harm": 2, "agency": 4, "uncertainty": 1}}', timestamptz '2026-01-01 00:00' + interval '5 minutes'),
    ('self-driving', 'moral-dilemmas-v1', 'Self Driving', '{"prompt": "An autonomous car must choose between swerving into a barrier or hitting a jaywalker.", "dimensions": {"harm": 5, "agency": 1, "uncertainty": 4}}', timestamptz '2026-01-01 00:00' + interval '6 minutes'),
    ('promise-vs-duty', 'moral-dilemmas-v1', 'Promise Vs Duty', '{"prompt": "You promised to attend a friend''s wedding but are asked to cover an urgent shift at a shelter.", "dimensions": {"harm": 2, "agency": 3, "uncertainty": 2}}', timestamptz '2026-01-01 00:00' + interval '7 minutes'),
    ('data-privacy', 'moral-dilemmas-v1', 'Data Privacy', '{"prompt": "Your manager asks you to use customer data for a purpose the customers never agreed to.", "dimensions": {"harm": 3, "agency": 4, "uncertainty": 2}}', timestamptz '2026-01-01 00:00' + interval '8 minutes'),
    ('lifeboat', 'moral-dilemmas-v1', 'Lifeboat', '{"prompt": "An overloaded lifeboat will sink unless one passenger leaves it.", "dimensions": {"harm": 5, "agency": 2, "uncertainty": 3}}', timestamptz '2026-01-01 00:00' + interval '9 minutes'),
    ('credit-theft', 'moral-dilemmas-v1', 'Credit Theft', '{"prompt": "A colleague presents your idea as their own in front of leadership.", "dimensions": {"harm": 1, "agency": 4, "uncertainty": 1}}', timestamptz '2026-01-01 00:00' + interval '10 minutes'),
    ('vaccine-allocation', 'moral-dilemmas-v1', 'Vaccine Allocation', '{"prompt": "You allocate a scarce vaccine between elderly people and essential workers.", "dimensions": {"harm": 4, "agency": 3, "uncertainty": 5}}', timestamptz '2026-01-01 00:00' + interval '11 minutes');

-- Prices per million tokens (USD); 'local-llama' has none on purpose: the
-- estimate reports it as unpriced.
INSERT INTO multisample.model_pricing (model_id, input_price_per_million, output_price_per_million) VALUES
    ('gpt-sim-large', 2.50, 10.00),
    ('claude-sim', 3.00, 15.00);


-- Token statistics for the cost estimate, one level of the fallback chain
-- each: gpt-sim-large has a row for this definition, claude-sim only a
-- global one (definition_id ''), local-llama none (it gets the average of
-- the global rows).
INSERT INTO multisample.model_token_statistics (model_id, definition_id, avg_input_tokens, avg_output_tokens, probe_count) VALUES
    ('gpt-sim-large', 'moral-dilemmas-v1', 96, 880, 1200),
    ('claude-sim', '', 110, 940, 5400);
