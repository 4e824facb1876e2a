// reference_export.js
//     The reference platform's CSV export of a run, written here from its
//     rules (not from its code), to produce the exact bytes that
//     export_run_csv(run_id, protect_formulas, reference_layout => true)
//     must write through psql -XAt. It runs on Node.js, so strings are
//     UTF-16, numbers are doubles read by JSON.parse and printed by String(),
//     and Array.prototype.sort compares UTF-16 code units: the three things
//     the reference layout has to reproduce.
//
//     The reference rules:
//       - the file is a UTF-8 byte order mark, the header line, then one line
//         per transcript, each line ended by LF;
//       - columns: AI Model Name, Sample Index, one column per numeric
//         scenario dimension (every dimension whose JSON value is a number,
//         over the run's transcripts; names sorted by the default sort),
//         Decision Code, Decision Text, Transcript ID, Target Response;
//       - model name: the part after the first ':' (up to the next one), then
//         a final -YYYYMMDD removed;
//       - a dimension value is String(value); a missing one is empty;
//       - decision code NULL -> "pending", decision text NULL -> "Summary not
//         yet generated";
//       - target response: each turn's targetResponse (missing = ''), the
//         empty ones dropped, joined with "\n\n---\n\n";
//       - a field holding a comma, a double quote, CR or LF is put in double
//         quotes with its double quotes doubled.
//     The extension's own rules on top (README, "CSV export"):
//       - header names are quoted like any field (the reference platform
//         writes them bare, which breaks the file when a name holds a comma);
//       - transcripts ordered by model id, scenario id (UTF-8 byte order) and
//         sample index (the reference leaves the order to its database);
//       - when two model ids of the run share a model name, every model of
//         the run is named by its model id;
//       - protect_formulas: a text cell (not a number) starting with =, +,
//         -, @, TAB or CR gets a leading apostrophe, before quoting.
//
// Usage: node test/reference_export.js < runs.jsonl
//   Each input line: {"out": "/path/file.csv", "protect": true,
//                     "scenarios": {"<id>": "<content as jsonb text>", ...},
//                     "transcripts": [{"id", "modelId", "scenarioId", "sampleIndex",
//                                      "decisionCode", "decisionText",
//                                      "content": "<jsonb text>"}, ...]}
//   (live transcripts only). Writes each file; prints the number written.
'use strict';
const fs = require('fs');
const readline = require('readline');

function shortName(modelId) {
  const withoutProvider = modelId.includes(':') ? modelId.split(':')[1] : modelId;
  return withoutProvider.replace(/-\d{8}$/, '');
}

function numericDimensions(scenarioContent) {
  const dims = {};
  const content = scenarioContent === undefined ? null : JSON.parse(scenarioContent);
  if (content && typeof content === 'object' && content.dimensions
      && typeof content.dimensions === 'object' && !Array.isArray(content.dimensions)) {
    for (const [name, value] of Object.entries(content.dimensions)) {
      if (typeof value === 'number') dims[name] = value;
    }
  }
  return dims;
}

function targetResponse(contentText) {
  const content = JSON.parse(contentText);
  if (!content || !Array.isArray(content.turns)) return '';
  return content.turns
    .map((turn) => (turn && typeof turn === 'object' && typeof turn.targetResponse === 'string'
                    ? turn.targetResponse : ''))
    .filter((r) => r.length > 0)
    .join('\n\n---\n\n');
}

function field(text, guard) {
  let s = text;
  if (guard && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
  if (/[,"\r\n]/.test(s)) s = '"' + s.replace(/"/g, '""') + '"';
  return s;
}

function bytesCompare(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function exportRun(run) {
  const rows = run.transcripts.slice().sort((a, b) =>
    bytesCompare(a.modelId, b.modelId) || bytesCompare(a.scenarioId, b.scenarioId)
    || a.sampleIndex - b.sampleIndex);

  const shortOf = new Map();
  for (const t of rows) shortOf.set(t.modelId, shortName(t.modelId));
  const shorts = Array.from(shortOf.values());
  const merged = new Set(shorts).size < shorts.length;
  const nameOf = (id) => (merged ? id : shortOf.get(id));

  const dimsOf = new Map();
  const names = new Set();
  for (const t of rows) {
    if (!dimsOf.has(t.scenarioId)) dimsOf.set(t.scenarioId, numericDimensions(run.scenarios[t.scenarioId]));
    for (const name of Object.keys(dimsOf.get(t.scenarioId))) names.add(name);
  }
  const columns = Array.from(names).sort();

  const guard = run.protect;
  const header = ['AI Model Name', 'Sample Index', ...columns,
                  'Decision Code', 'Decision Text', 'Transcript ID', 'Target Response']
    .map((h) => field(h, guard)).join(',');
  let out = '\uFEFF' + header + '\n';
  for (const t of rows) {
    const dims = dimsOf.get(t.scenarioId);
    const cells = [
      field(nameOf(t.modelId), guard),
      String(t.sampleIndex),
      ...columns.map((c) => (Object.prototype.hasOwnProperty.call(dims, c) ? String(dims[c]) : '')),
      field(t.decisionCode === null ? 'pending' : t.decisionCode, guard),
      field(t.decisionText === null ? 'Summary not yet generated' : t.decisionText, guard),
      field(t.id, guard),
      field(targetResponse(t.content), guard),
    ];
    out += cells.join(',') + '\n';
  }
  return out;
}

async function main() {
  let written = 0;
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const run = JSON.parse(line);
    fs.writeFileSync(run.out, exportRun(run), 'utf8');
    written++;
  }
  console.log(written);
}

main();
