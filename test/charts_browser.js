// The browser half of test/charts.sh: renders the charts and reports that
// test/charts.sh wrote into a folder, in headless Chromium driven by
// playwright-core, and checks from the rendered page what a reader sees.
// Prints TAP lines ("ok - ..." / "not ok - ...").
//
//   node charts_browser.js DIR
//
// DIR/manifest.json lists the pages: {name, file, kind: "html" | "svg",
// expect: <the JSON of test/sql/chart_expectations.sql> | null, checks: [...],
// screenshots: {chart title prefix or "page": file name}}. Checks:
//   safe       nothing executes (window.__pwned stays unset, no dialog), no
//              network request, no script/style/link/foreign element, no
//              event or URL attribute; hostile ids are shown as text
//   bars       each model's point and interval bar, measured with
//              getBoundingClientRect and mapped through the axis (fitted to
//              the drawn ticks and their labels), lie within a pixel of the
//              figures of model_variance; rows in the documented order;
//              tooltips carry the exact figures
//   forest     the same for the pairs of model_comparison, the zero line,
//              the Holm marks
//   heatmap    rows and columns in the documented order, every cell's
//              colour equals the legend's colour at its standard deviation,
//              one-sample and missing pairs shown as such, tooltips exact
//   readable   text at 10 px or more, no two labels of a kind overlap, all
//              text inside its chart
//   tables     the report's model and comparison tables hold the figures
//
// Pages are served from http://charts.invalid/ by request interception: the
// browser never reaches a network, and any other request is refused and
// counted. Chromium runs with the flags that work on this machine.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const dir = process.argv[2];
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const outDir = manifest.output;
const ORIGIN = 'http://charts.invalid/';
let failures = 0;
let passes = 0;

function ok(cond, desc, diag) {
    if (cond) { passes++; console.log(`ok - ${desc}`); }
    else {
        failures++;
        console.log(`not ok - ${desc}`);
        if (diag) for (const line of String(diag).split('\n').slice(0, 12)) console.log(`#   ${line}`);
    }
}

// Runs in the page: everything the checks need, measured from the DOM.
function measure() {
    const rect = (el) => { const r = el.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height }; };
    const charts = [];
    for (const svg of document.querySelectorAll('svg')) {
        const title = svg.querySelector(':scope > title');
        const chart = { title: title ? title.textContent : '', box: rect(svg), ticks: [], rows: [], cells: [],
                        rowLabels: [], colLabels: [], legendTicks: [], legendSteps: [], texts: [], zero: null, note: null };
        const tickLines = svg.querySelectorAll('line.tick');
        const tickLabels = svg.querySelectorAll('text.tick-label');
        tickLines.forEach((l, i) => chart.ticks.push({ x: rect(l).left, label: tickLabels[i] ? tickLabels[i].textContent : null }));
        const legendLines = svg.querySelectorAll('line.legend-tick');
        const legendLabels = svg.querySelectorAll('text.legend-tick-label');
        legendLines.forEach((l, i) => chart.legendTicks.push({ x: rect(l).left, label: legendLabels[i] ? legendLabels[i].textContent : null }));
        svg.querySelectorAll('rect.legend-step').forEach((r) => chart.legendSteps.push({ box: rect(r), fill: r.getAttribute('fill') }));
        const zero = svg.querySelector('line.zero-line');
        if (zero) chart.zero = rect(zero).left;
        const note = svg.querySelector('text.note');
        if (note) chart.note = note.textContent;
        for (const g of svg.querySelectorAll('g.row')) {
            const ci = g.querySelector('line.ci');
            const mark = g.querySelector('circle.mean, .difference');
            const label = g.querySelector('text.row-label');
            chart.rows.push({
                row: Number(g.getAttribute('data-row')),
                title: g.querySelector(':scope > title').textContent,
                label: label ? label.textContent : null,
                labelBox: label ? rect(label) : null,
                ci: ci ? rect(ci) : null,
                mark: mark ? rect(mark) : null,
                significant: mark ? mark.classList.contains('significant') : null,
                markFill: mark ? mark.getAttribute('fill') : null,
            });
        }
        for (const g of svg.querySelectorAll('g.cell')) {
            const r = g.querySelector('rect');
            chart.cells.push({ row: Number(g.getAttribute('data-row')), col: Number(g.getAttribute('data-col')),
                               title: g.querySelector(':scope > title').textContent, fill: r.getAttribute('fill'), box: rect(r) });
        }
        for (const g of svg.querySelectorAll('g.row-label')) {
            chart.rowLabels.push({ row: Number(g.getAttribute('data-row')), title: g.querySelector('title').textContent,
                                   text: g.querySelector('text').textContent, box: rect(g.querySelector('text')) });
        }
        for (const g of svg.querySelectorAll('g.col-label')) {
            chart.colLabels.push({ col: Number(g.getAttribute('data-col')), title: g.querySelector('title').textContent,
                                   text: g.querySelector('text').textContent, box: rect(g.querySelector('text')) });
        }
        for (const t of svg.querySelectorAll('text')) {
            chart.texts.push({ cls: t.getAttribute('class') || (t.closest('g.row-label') ? 'row-label' : t.closest('g.col-label') ? 'col-label' : ''),
                               text: t.textContent, box: rect(t), fontSize: parseFloat(getComputedStyle(t).fontSize) });
        }
        charts.push(chart);
    }
    // What must not be there: elements that load or run something, event
    // and URL attributes.
    const forbidden = [];
    for (const el of document.querySelectorAll('*')) {
        const name = el.localName;
        if (['script', 'iframe', 'object', 'embed', 'img', 'image', 'use', 'a', 'foreignObject', 'link', 'audio', 'video', 'animate', 'set', 'form'].includes(name)) forbidden.push(`<${name}>`);
        for (const attr of el.attributes) {
            const n = attr.name.toLowerCase();
            if (n.startsWith('on') || n === 'href' || n === 'src' || n === 'xlink:href' || n === 'action' || n === 'formaction' || n === 'style') forbidden.push(`${name}[${n}]`);
        }
    }
    const styles = document.querySelectorAll('style').length;
    const tables = {};
    for (const t of document.querySelectorAll('table')) {
        tables[t.className] = [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent));
    }
    const csp = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
    return { charts, forbidden, styles, tables, csp: csp ? csp.getAttribute('content') : null,
             pwned: window.__pwned === undefined ? null : String(window.__pwned),
             allText: document.documentElement.textContent };
}

// A straight line through the drawn ticks: x = a + b * value.
function fitAxis(ticks) {
    const pts = ticks.map((t) => ({ v: Number(t.label.replace('\u2212', '-')), x: t.x })).filter((p) => Number.isFinite(p.v));
    const n = pts.length;
    if (n < 2) return null;
    const mv = pts.reduce((s, p) => s + p.v, 0) / n;
    const mx = pts.reduce((s, p) => s + p.x, 0) / n;
    let sxy = 0; let sxx = 0;
    for (const p of pts) { sxy += (p.v - mv) * (p.x - mx); sxx += (p.v - mv) * (p.v - mv); }
    const b = sxy / sxx;
    const a = mx - b * mv;
    const worst = Math.max(...pts.map((p) => Math.abs(a + b * p.v - p.x)));
    return { map: (v) => a + b * v, worst, n };
}

const near = (got, want) => Math.abs(got - want) <= 1;
// A figure in a tooltip is the view's float8 printed shortest-exact: it
// reads back as itself, and equals the figure the test read from the view
// to 1e-12 relative (two reads of a view may differ in the last bits, as
// its aggregates add in plan order).
function sameFigure(shown, want) {
    if (want === null || want === undefined) return shown === 'n/a' || shown === undefined;
    if (shown === undefined) return false;
    const a = Number(shown); const b = Number(want);
    const shortest = /e/.test(shown) || String(a) === shown;
    return shortest && Number.isFinite(a) && Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b), 1e-300);
}
// The value after "label: " on a tooltip line, and the two bounds of "[l, u]".
const after = (lines, label) => { const l = lines.find((x) => x.startsWith(label)); return l === undefined ? undefined : l.slice(label.length).split(/[;( ]/)[0]; };
const bounds = (lines) => { const l = lines.find((x) => /: \[[^\]]*\]$/.test(x)); return l ? l.slice(l.lastIndexOf('[') + 1, -1).split(', ') : [undefined, undefined]; };
const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
const colourDistance = (c1, c2) => Math.max(...hex(c1).map((v, i) => Math.abs(v - hex(c2)[i])));

function overlaps(boxes) {
    const found = [];
    for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
            const a = boxes[i].box; const b = boxes[j].box;
            if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) {
                found.push(`${JSON.stringify(boxes[i].text)} / ${JSON.stringify(boxes[j].text)}`);
            }
        }
    }
    return found;
}

function checkBars(page, chart, models) {
    const axis = fitAxis(chart.ticks);
    ok(axis && axis.worst < 0.5, `${page.name}: model chart axis has evenly spaced ticks (${axis ? axis.n : 0}, worst ${axis ? axis.worst.toFixed(3) : '?'} px)`);
    if (!axis) return;
    ok(chart.rows.length === models.length, `${page.name}: model chart draws one row per model (${chart.rows.length} of ${models.length})`);
    const bad = []; const order = []; const tips = [];
    chart.rows.forEach((r, i) => {
        const m = models[i];
        if (!m) return;
        const label = m.id.length > 40 ? m.id.slice(0, 39) + '...' : m.id;
        if (r.label !== label || r.row !== i + 1 || (i > 0 && !(r.mark.top > chart.rows[i - 1].mark.top))) order.push(`row ${i + 1}: ${JSON.stringify(r.label)} expected ${JSON.stringify(label)}`);
        const cx = (r.mark.left + r.mark.right) / 2;
        if (!near(cx, axis.map(Number(m.mean)))) bad.push(`${m.id}: mean drawn at ${cx.toFixed(2)}, ${m.mean} maps to ${axis.map(Number(m.mean)).toFixed(2)}`);
        if (m.lower !== null) {
            if (!r.ci) bad.push(`${m.id}: no interval bar`);
            else {
                if (!near(r.ci.left, axis.map(Number(m.lower)))) bad.push(`${m.id}: bar starts at ${r.ci.left.toFixed(2)}, ${m.lower} maps to ${axis.map(Number(m.lower)).toFixed(2)}`);
                if (!near(r.ci.right, axis.map(Number(m.upper)))) bad.push(`${m.id}: bar ends at ${r.ci.right.toFixed(2)}, ${m.upper} maps to ${axis.map(Number(m.upper)).toFixed(2)}`);
            }
        } else if (r.ci) bad.push(`${m.id}: a bar where there is no interval`);
        const lines = r.title.split('\n');
        const [lo, hi] = bounds(lines);
        if (lines[0] !== m.id || !sameFigure(after(lines, 'mean over scenarios: '), m.mean)
            || (m.lower !== null && !(sameFigure(lo, m.lower) && sameFigure(hi, m.upper)))) {
            tips.push(`${m.id}: ${JSON.stringify(r.title)}, expected mean ${m.mean}, interval [${m.lower}, ${m.upper}]`);
        }
    });
    ok(order.length === 0, `${page.name}: models in order of their mean over scenarios (ties by id), labelled`, order.join('\n'));
    ok(bad.length === 0, `${page.name}: every point and interval bar is drawn within 1 px of its figures (${chart.rows.length} models)`, bad.join('\n'));
    ok(tips.length === 0, `${page.name}: model tooltips carry the exact mean and interval`, tips.join('\n'));
}

function checkForest(page, chart, exp) {
    const pairs = exp.pairs;
    ok(chart.rows.length === pairs.length, `${page.name}: forest plot draws ${pairs.length} of ${exp.pairTotal} pairs (${chart.rows.length})`);
    if (exp.pairTotal > pairs.length) {
        ok(chart.texts.some((t) => t.text.includes(`${exp.pairTotal - pairs.length} more in multisample.model_comparison`)),
           `${page.name}: forest plot says how many pairs it leaves out`);
    }
    const axis = fitAxis(chart.ticks);
    ok(axis && axis.worst < 0.5, `${page.name}: forest plot axis has evenly spaced ticks`);
    if (!axis) return;
    ok(chart.zero !== null && near(chart.zero, axis.map(0)), `${page.name}: the zero line is at 0 on the axis (${chart.zero} vs ${axis.map(0).toFixed(2)})`);
    const bad = []; const tips = []; const marks = [];
    chart.rows.forEach((r, i) => {
        const p = pairs[i];
        if (!p) return;
        const cx = (r.mark.left + r.mark.right) / 2;
        if (!near(cx, axis.map(Number(p.diff)))) bad.push(`${p.a} - ${p.b}: difference drawn at ${cx.toFixed(2)}, ${p.diff} maps to ${axis.map(Number(p.diff)).toFixed(2)}`);
        if (p.lower !== null) {
            if (!r.ci || !near(r.ci.left, axis.map(Number(p.lower))) || !near(r.ci.right, axis.map(Number(p.upper)))) {
                bad.push(`${p.a} - ${p.b}: bar ${r.ci ? r.ci.left.toFixed(2) + '..' + r.ci.right.toFixed(2) : 'missing'}, [${p.lower}, ${p.upper}] maps to ${axis.map(Number(p.lower)).toFixed(2)}..${axis.map(Number(p.upper)).toFixed(2)}`);
            }
        }
        if (i > 0 && !(r.mark.top > chart.rows[i - 1].mark.top)) bad.push(`row ${i + 1} is not below row ${i}`);
        const lines = r.title.split('\n');
        const [lo, hi] = bounds(lines);
        const pLine = lines.find((l) => l.startsWith('p-value: ')) || '';
        const pShown = pLine.replace(/^p-value: /, '').split('; Holm-adjusted: ');
        if (!sameFigure(after(lines, 'mean difference: '), p.diff) || (p.lower !== null && !(sameFigure(lo, p.lower) && sameFigure(hi, p.upper)))
            || !sameFigure(pShown[0], p.p) || !sameFigure((pShown[1] || '').split(' ')[0], p.pHolm)
            || lines[0] !== `${p.a} \u2212 ${p.b}`) tips.push(`${p.a} - ${p.b}: ${JSON.stringify(r.title)}, expected ${JSON.stringify(p)}`);
        if (r.significant !== p.significant || (p.significant && r.markFill !== '#D55E00')) marks.push(`${p.a} - ${p.b}: drawn ${r.significant ? '' : 'not '}significant, p(Holm) ${p.pHolm}`);
    });
    ok(bad.length === 0, `${page.name}: every difference and interval is drawn within 1 px of its figures, rows by difference`, bad.join('\n'));
    ok(tips.length === 0, `${page.name}: forest tooltips carry the exact difference, interval and p-values`, tips.join('\n'));
    ok(marks.length === 0, `${page.name}: exactly the pairs with Holm-adjusted p < 0.05 are marked (${pairs.filter((p) => p.significant).length})`, marks.join('\n'));
}

function checkHeatmap(page, chart, exp) {
    const rows = exp.scenarios; const cols = exp.heatmapModels;
    const rowOrder = chart.rowLabels.map((l) => l.title.split('\n')[0]);
    ok(JSON.stringify(rowOrder) === JSON.stringify(rows), `${page.name}: heat map rows are the ${rows.length} most variable scenarios, in rank order`,
       `drawn ${JSON.stringify(rowOrder.slice(0, 5))}... expected ${JSON.stringify(rows.slice(0, 5))}...`);
    ok(JSON.stringify(chart.colLabels.map((l) => l.title)) === JSON.stringify(cols), `${page.name}: heat map columns are the ${cols.length} models, by id`);
    if (exp.scenarioTotal > rows.length) {
        ok(chart.note && chart.note.includes(`of ${exp.scenarioTotal} scenarios`) && chart.note.includes(`${exp.scenarioTotal - rows.length} more`),
           `${page.name}: heat map notes the ${exp.scenarioTotal - rows.length} scenarios it leaves out`, chart.note);
    }
    const legend = fitAxis(chart.legendTicks);
    ok(legend && legend.worst < 0.5 && chart.legendSteps.length > 0, `${page.name}: heat map legend has a colour bar and evenly spaced ticks`);
    if (!legend) return;
    const byKey = new Map(exp.cells.map((c) => [`${c.scenario}\u0000${c.model}`, c]));
    const bad = []; const tips = [];
    let coloured = 0; let single = 0; let missing = 0;
    for (const cell of chart.cells) {
        const c = byKey.get(`${rows[cell.row - 1]}\u0000${cols[cell.col - 1]}`);
        const where = `${rows[cell.row - 1]} x ${cols[cell.col - 1]}`;
        if (cell.box.top < chart.rowLabels[cell.row - 1].box.top - 4 || cell.box.bottom > chart.rowLabels[cell.row - 1].box.bottom + 4) bad.push(`${where}: not on its row`);
        if (!c) {
            missing++;
            if (cell.fill !== '#ffffff' || !cell.title.endsWith('no scored samples')) bad.push(`${where}: no samples, drawn ${cell.fill}`);
            continue;
        }
        if (c.sd === null) {
            single++;
            if (cell.fill !== '#bdbdbd' || !cell.title.includes('1 scored sample')) bad.push(`${where}: one sample, drawn ${cell.fill}`);
            continue;
        }
        coloured++;
        const x = Math.min(Math.max(legend.map(Number(c.sd)), chart.legendSteps[0].box.left), chart.legendSteps[chart.legendSteps.length - 1].box.right);
        const k = chart.legendSteps.findIndex((s) => x >= s.box.left - 1e-6 && x <= s.box.right + 1e-6);
        const step = chart.legendSteps[k];
        const neighbour = chart.legendSteps[k + 1] || chart.legendSteps[k - 1];
        const tolerance = Math.max(colourDistance(step.fill, neighbour.fill), 1) + 1;
        if (colourDistance(cell.fill, step.fill) > tolerance) bad.push(`${where}: sd ${c.sd} drawn ${cell.fill}, the legend shows ${step.fill} there`);
        const lines = cell.title.split('\n');
        if (!sameFigure(after(lines, 'std dev: '), c.sd) || !cell.title.includes(`\n${c.n} scored samples`)) tips.push(`${where}: ${JSON.stringify(cell.title)}, expected sd ${c.sd}, n ${c.n}`);
    }
    ok(chart.cells.length === rows.length * cols.length, `${page.name}: heat map has a cell for every scenario and model (${chart.cells.length})`);
    ok(bad.length === 0, `${page.name}: every cell is coloured as the legend says for its standard deviation (${coloured} coloured, ${single} one-sample, ${missing} empty)`, bad.join('\n'));
    ok(tips.length === 0, `${page.name}: heat map tooltips carry the exact standard deviation and sample count`, tips.join('\n'));
}

function checkReadable(page, chart, label) {
    const small = chart.texts.filter((t) => t.fontSize < 10);
    ok(small.length === 0, `${page.name}: ${label}: all text is 10 px or larger`, small.map((t) => `${t.text}: ${t.fontSize}px`).join('\n'));
    const kinds = {};
    for (const t of chart.texts) if (['row-label', 'col-label', 'tick-label', 'legend-tick-label', 'value'].includes(t.cls)) (kinds[t.cls] = kinds[t.cls] || []).push(t);
    const found = [];
    for (const [kind, list] of Object.entries(kinds)) for (const o of overlaps(list)) found.push(`${kind}: ${o}`);
    ok(found.length === 0, `${page.name}: ${label}: no two labels of a kind overlap`, found.join('\n'));
    const outside = chart.texts.filter((t) => t.text.trim() !== '' && (t.box.left < chart.box.left - 0.5 || t.box.right > chart.box.right + 0.5
                                                                         || t.box.top < chart.box.top - 0.5 || t.box.bottom > chart.box.bottom + 0.5));
    ok(outside.length === 0, `${page.name}: ${label}: all text lies inside the chart`, outside.map((t) => `${JSON.stringify(t.text)} ${JSON.stringify(t.box)}`).join('\n'));
}

function checkTables(page, m, exp) {
    const rows = m.tables.models || [];
    const bad = [];
    exp.models.forEach((e, i) => {
        const r = rows[i];
        if (!r || r[0] !== e.id || Math.abs(Number(r[3]) - Number(e.mean)) > 0.0005 + 1e-12) bad.push(`${e.id}: ${JSON.stringify(r)}`);
        else if (e.lower !== null) {
            const [lo, hi] = r[4].replace(/[[\]]/g, '').split(', ').map(Number);
            if (Math.abs(lo - Number(e.lower)) > 0.0005 + 1e-12 || Math.abs(hi - Number(e.upper)) > 0.0005 + 1e-12) bad.push(`${e.id}: interval ${r[4]}`);
        }
    });
    ok(rows.length === exp.models.length && bad.length === 0, `${page.name}: the model table lists every model with its mean and interval, in chart order`, bad.join('\n'));
    const cmp = m.tables.comparison || [];
    ok(cmp.length === Math.min(200, exp.pairTotal), `${page.name}: the comparison table lists ${Math.min(200, exp.pairTotal)} pairs (${cmp.length})`);
}

(async () => {
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ms-chromium-'));
    let context;
    try {
        context = await chromium.launchPersistentContext(userDataDir, {
            executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
            headless: true,
            viewport: { width: 1400, height: 1000 },
            deviceScaleFactor: 1,
            args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                   '--disable-component-update', '--disable-sync'],
        });
    } catch (e) {
        console.log(`not ok - Chromium starts\n#   ${String(e.message).split('\n')[0]}`);
        process.exit(1);
    }
    for (const page of manifest.pages) {
        const body = fs.readFileSync(path.join(dir, page.file));
        const tab = await context.newPage();
        const requests = []; const dialogs = [];
        const url = ORIGIN + page.file;
        await tab.route('**/*', (route) => {
            const u = route.request().url();
            if (u === url) return route.fulfill({ status: 200, body, contentType: page.kind === 'svg' ? 'image/svg+xml' : 'text/html; charset=utf-8' });
            requests.push(u);
            return route.abort();
        });
        tab.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
        tab.on('request', (r) => { if (r.url() !== url && !requests.includes(r.url())) requests.push(r.url()); });
        await tab.goto(url, { waitUntil: 'load' });
        await tab.waitForTimeout(300);
        const m = await tab.evaluate(measure);
        const checks = page.checks || [];

        if (checks.includes('executes')) {
            // The control: a page that does run its payload, to show the
            // detector sees execution when there is some.
            ok(m.pwned !== null || dialogs.length > 0, `${page.name}: the detector sees the payload run (window.__pwned = ${m.pwned})`);
        }
        if (checks.includes('image')) {
            // The data: URL shows the chart at its own size, loading nothing.
            const want = fs.readFileSync(path.join(dir, page.svgFile), 'utf8').match(/<svg [^>]*width="(\d+)" height="(\d+)"/);
            const img = await tab.evaluate(() => { const i = document.getElementById('chart'); return { complete: i.complete, w: i.naturalWidth, h: i.naturalHeight }; });
            ok(img.complete && want && img.w === Number(want[1]) && img.h === Number(want[2]) && requests.length === 0,
               `${page.name}: shows the chart at ${want ? want[1] + ' x ' + want[2] : '?'} px (${img.w} x ${img.h}), no request`);
        }
        if (checks.includes('safe')) {
            ok(m.pwned === null && dialogs.length === 0, `${page.name}: nothing executes (window.__pwned unset, no dialog)`, `__pwned = ${m.pwned}; dialogs: ${dialogs.join(', ')}`);
            ok(requests.length === 0, `${page.name}: no network request`, requests.join('\n'));
            ok(m.forbidden.length === 0 && m.styles === (page.kind === 'html' ? 1 : 0),
               `${page.name}: no script, link, foreign or URL element, no event or style attribute (${m.styles} style element)`, m.forbidden.slice(0, 10).join(', '));
            if (page.kind === 'html' && !page.noCsp) {
                ok(m.csp && m.csp.startsWith("default-src 'none'"), `${page.name}: Content-Security-Policy forbids everything by default`, m.csp);
            }
            for (const text of page.shownText || []) {
                ok(m.allText.includes(text), `${page.name}: shows ${JSON.stringify(text.slice(0, 40))} as text`);
            }
        }
        const find = (prefix) => m.charts.find((c) => c.title.startsWith(prefix));
        const modelChart = find('Mean score per model');
        const heatmap = find('Within-pair standard deviation');
        const forest = find('Model comparison');
        if (checks.includes('bars')) {
            if (modelChart) checkBars(page, modelChart, page.expect.models);
            else ok(false, `${page.name}: has a model chart`);
        }
        if (checks.includes('forest')) {
            if (forest) checkForest(page, forest, page.expect);
            else ok(false, `${page.name}: has a forest plot`);
        }
        if (checks.includes('heatmap')) {
            if (heatmap) checkHeatmap(page, heatmap, page.expect);
            else ok(false, `${page.name}: has a heat map`);
        }
        if (checks.includes('readable')) {
            for (const [label, chart] of [['model chart', modelChart], ['heat map', heatmap], ['forest plot', forest]]) {
                if (chart) checkReadable(page, chart, label);
            }
            if (heatmap && page.expect.scenarioTotal > 50) {
                ok(heatmap.rowLabels.length === 50 && heatmap.box.height < 1600,
                   `${page.name}: the heat map stays bounded: 50 of ${page.expect.scenarioTotal} scenarios, ${Math.round(heatmap.box.width)} x ${Math.round(heatmap.box.height)} px`);
            }
        }
        if (checks.includes('tables')) checkTables(page, m, page.expect);
        if (checks.includes('messages')) {
            for (const [prefix, text] of page.messages) {
                const chart = find(prefix);
                ok(chart && chart.texts.some((t) => t.text.includes(text)), `${page.name}: ${prefix.toLowerCase()} says ${JSON.stringify(text)}`);
            }
        }
        for (const [what, file] of Object.entries(page.screenshots || {})) {
            if (what === 'page') await tab.screenshot({ path: path.join(outDir, file), fullPage: true });
            else {
                const idx = m.charts.findIndex((c) => c.title.startsWith(what));
                if (idx >= 0) await (await tab.$$('svg'))[idx].screenshot({ path: path.join(outDir, file) });
            }
        }
        await tab.close();
    }
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    console.log(`# browser: ${passes} passed, ${failures} failed`);
    process.exit(failures ? 1 : 0);
})().catch((e) => { console.log(`not ok - browser checks ran to the end\n#   ${String(e.stack).split('\n').slice(0, 5).join('\n#   ')}`); process.exit(1); });
