// reference_selection.js
//     The reference platform's scenario selection (SPEC 4.1), transcribed
//     as plain JavaScript, to compute expected values independently of the
//     extension: JavaScript strings are UTF-16 (charCodeAt yields surrogate
//     units) and its numbers are IEEE doubles, exactly as on the reference.
//
// Usage: node test/reference_selection.js < cases.jsonl
//   Each input line: {"ids": [...], "percentage": 50, "definitionId": "def-1", "seed": null}
//   Each output line: {"hash": <signed 32-bit hash>, "seed": <seed used>, "selected": [...]}
'use strict';

function hashString(str) {
  let hash = 0;
  for (let i = 0; i < str.length; i++) {
    hash = ((hash << 5) - hash) + str.charCodeAt(i);
    hash = hash & hash; // to signed 32 bits
  }
  return hash;
}

function seededRandom(seed) {
  let state = seed;
  return () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
}

function selectScenarios(ids, percentage, definitionId, seed) {
  const hash = hashString(definitionId === null ? '' : definitionId);
  const used = (seed === null || seed === undefined) ? Math.abs(hash) : seed;
  if (percentage >= 100) return { hash, seed: used, selected: ids.slice() };
  const target = Math.max(1, Math.floor(ids.length * percentage / 100));
  const random = seededRandom(used);
  const items = ids.slice();
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return { hash, seed: used, selected: items.slice(0, target) };
}

const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0);
for (const line of lines) {
  const c = JSON.parse(line);
  console.log(JSON.stringify(selectScenarios(c.ids, c.percentage, c.definitionId, c.seed)));
}
