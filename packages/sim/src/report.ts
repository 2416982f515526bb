/**
 * The study as text: a markdown table, JSON lines, an SVG plot (written by hand: no plotting
 * library) and the docs page.
 */
import type { Evaluation, StudyRow } from './study.ts';

/** One JSON object per setting, as the issue asks, plus k, m and the threshold. */
export interface JsonRow {
  scheme: string;
  overhead: number;
  annual_loss_probability: number;
  availability: number;
  repair_bytes_per_stored_byte_per_month: number;
  default: boolean;
  k: number;
  m: number;
  repair_threshold: number;
  meets_goal: boolean;
}

export function jsonRows(rows: readonly StudyRow[]): JsonRow[] {
  return rows.map((r) => ({
    scheme: r.name,
    overhead: r.overhead,
    annual_loss_probability: r.annualLossProbability,
    availability: r.availability,
    repair_bytes_per_stored_byte_per_month: r.repairBytesPerStoredBytePerMonth,
    default: r.isDefault,
    k: r.scheme.k,
    m: r.scheme.m,
    repair_threshold: r.scheme.repairThreshold,
    meets_goal: r.meetsGoal,
  }));
}

export function jsonLines(rows: readonly StudyRow[]): string {
  return jsonRows(rows)
    .map((r) => JSON.stringify(r))
    .join('\n');
}

/** 1.2e-13, or "< 1e-300" for an underflow. */
export function sci(x: number, digits = 2): string {
  if (x === 0) return '< 1e-300';
  if (!Number.isFinite(x)) return String(x);
  if (x >= 0.01 && x < 1000) return String(Number(x.toPrecision(digits + 1)));
  const [m, e] = x.toExponential(digits - 1).split('e');
  return `${m}e${Number(e)}`;
}

/** 0.99980 with enough digits to show the first non-9 (at least 4 decimals). */
export function availabilityText(a: number): string {
  const u = 1 - a;
  if (u <= 0) return '1 - < 1e-15';
  const decimals = Math.min(15, Math.max(4, Math.ceil(-Math.log10(u)) + 1));
  return a.toFixed(decimals);
}

export type Align = 'none' | 'right' | 'center';

/**
 * A markdown table with padded, aligned columns: the layout Prettier gives tables, so generated
 * docs pass `prettier --check` as written.
 */
export function mdTable(
  header: readonly string[],
  align: readonly Align[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, c) =>
    Math.max(3, h.length, ...rows.map((r) => (r[c] ?? '').length)),
  );
  const cell = (text: string, c: number) => {
    const pad = widths[c]! - text.length;
    if (align[c] === 'right') return ' '.repeat(pad) + text;
    if (align[c] === 'center') {
      const before = Math.floor(pad / 2);
      return ' '.repeat(before) + text + ' '.repeat(pad - before);
    }
    return text + ' '.repeat(pad);
  };
  const line = (cells: readonly string[]) =>
    `| ${header.map((_, c) => cell(cells[c] ?? '', c)).join(' | ')} |`;
  const rule = widths.map((w, c) =>
    align[c] === 'right'
      ? '-'.repeat(w - 1) + ':'
      : align[c] === 'center'
        ? ':' + '-'.repeat(w - 2) + ':'
        : '-'.repeat(w),
  );
  return [line(header), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n');
}

/**
 * Re-lays every table of a markdown text (blocks of lines starting with `|`, the second being the
 * delimiter row) with mdTable. Cells must not contain `|`.
 */
export function alignTables(markdown: string): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  const cellsOf = (line: string) =>
    line
      .trim()
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  for (let i = 0; i < lines.length;) {
    if (!lines[i]!.startsWith('|') || !lines[i + 1]?.startsWith('|')) {
      out.push(lines[i++]!);
      continue;
    }
    const block: string[] = [];
    while (i < lines.length && lines[i]!.startsWith('|')) block.push(lines[i++]!);
    const align = cellsOf(block[1]!).map((d): Align =>
      d.startsWith(':') && d.endsWith(':') ? 'center' : d.endsWith(':') ? 'right' : 'none',
    );
    out.push(mdTable(cellsOf(block[0]!), align, block.slice(2).map(cellsOf)));
  }
  return out.join('\n');
}

export function markdownTable(rows: readonly StudyRow[]): string {
  return mdTable(
    [
      'scheme',
      'n',
      'overhead',
      'repair at',
      'loss / year',
      'availability',
      'repair bytes / stored byte / month',
      'meets goal',
    ],
    ['none', 'right', 'right', 'right', 'right', 'right', 'right', 'center'],
    rows.map((r) => [
      r.isDefault ? `**${r.name}** (default)` : r.name,
      String(r.n),
      r.overhead.toFixed(2),
      String(r.scheme.repairThreshold),
      sci(r.annualLossProbability),
      availabilityText(r.availability),
      r.repairBytesPerStoredBytePerMonth.toFixed(3),
      r.meetsGoal ? 'yes' : 'no',
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// SVG

interface Point {
  x: number;
  y: number;
  label: string;
  kind: 'replication' | 'rs' | 'default';
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Panel {
  x0: number;
  y0: number;
  w: number;
  h: number;
  xMin: number;
  xMax: number;
  yMinExp: number;
  yMaxExp: number;
}

function px(p: Panel, x: number): number {
  return p.x0 + ((x - p.xMin) / (p.xMax - p.xMin)) * p.w;
}

function py(p: Panel, y: number): number {
  const e = Math.log10(Math.max(y, Math.pow(10, p.yMinExp)));
  return p.y0 + p.h - ((e - p.yMinExp) / (p.yMaxExp - p.yMinExp)) * p.h;
}

function axes(p: Panel, xLabel: string, xTicks: number[], title: string): string[] {
  const out: string[] = [];
  out.push(
    `<rect x="${p.x0}" y="${p.y0}" width="${p.w}" height="${p.h}" fill="#fff" stroke="#999"/>`,
  );
  for (let e = p.yMinExp; e <= p.yMaxExp; e++) {
    const y = py(p, Math.pow(10, e));
    const major = e % 3 === 0;
    out.push(
      `<line x1="${p.x0}" y1="${y.toFixed(1)}" x2="${p.x0 + p.w}" y2="${y.toFixed(1)}" stroke="${major ? '#ddd' : '#f1f1f1'}"/>`,
    );
    if (major || p.yMaxExp - p.yMinExp <= 8) {
      out.push(
        `<text x="${p.x0 - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">1e${e}</text>`,
      );
    }
  }
  for (const t of xTicks) {
    const x = px(p, t);
    out.push(
      `<line x1="${x.toFixed(1)}" y1="${p.y0}" x2="${x.toFixed(1)}" y2="${p.y0 + p.h}" stroke="#f1f1f1"/>`,
    );
    out.push(
      `<text x="${x.toFixed(1)}" y="${p.y0 + p.h + 16}" text-anchor="middle" font-size="11">${t}</text>`,
    );
  }
  out.push(
    `<text x="${p.x0 + p.w / 2}" y="${p.y0 + p.h + 34}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`,
  );
  out.push(
    `<text x="${p.x0 + p.w / 2}" y="${p.y0 - 10}" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
  );
  out.push(
    `<text transform="translate(${p.x0 - 48},${p.y0 + p.h / 2}) rotate(-90)" text-anchor="middle" font-size="12">annual loss probability per file</text>`,
  );
  return out;
}

function points(p: Panel, pts: Point[]): string[] {
  const out: string[] = [];
  const color = { replication: '#d9730d', rs: '#2f6fb5', default: '#c0392b' };
  // Labels: to the right of each point, nudged apart vertically where they would overlap.
  const placed: { x: number; y: number }[] = [];
  const sorted = [...pts].sort((a, b) => py(p, a.y) - py(p, b.y));
  for (const pt of sorted) {
    const x = px(p, pt.x);
    const y = py(p, pt.y);
    const clipped = pt.y < Math.pow(10, p.yMinExp);
    const c = color[pt.kind];
    if (pt.kind === 'default') {
      out.push(
        `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="8" fill="none" stroke="${c}" stroke-width="2"/>`,
      );
    }
    out.push(
      clipped
        ? `<path d="M${(x - 5).toFixed(1)},${(y - 6).toFixed(1)} L${(x + 5).toFixed(1)},${(y - 6).toFixed(1)} L${x.toFixed(1)},${(y + 2).toFixed(1)} Z" fill="${c}"/>`
        : `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${pt.kind === 'replication' ? color.replication : color.rs}"/>`,
    );
    let ly = y + 4;
    for (let guard = 0; guard < 40; guard++) {
      const clash = placed.some((q) => Math.abs(q.x - x) < 70 && Math.abs(q.y - ly) < 11);
      if (!clash) break;
      ly += 11;
    }
    placed.push({ x, y: ly });
    if (ly - (y + 4) > 6) {
      out.push(
        `<line x1="${(x + 3).toFixed(1)}" y1="${(y + 3).toFixed(1)}" x2="${(x + 7).toFixed(1)}" y2="${(ly - 3).toFixed(1)}" stroke="#aaa" stroke-width="0.8"/>`,
      );
    }
    out.push(
      `<text x="${(x + 8).toFixed(1)}" y="${ly.toFixed(1)}" font-size="10" fill="#333">${esc(pt.label)}</text>`,
    );
  }
  return out;
}

function hline(p: Panel, y: number, label: string): string[] {
  const v = py(p, y);
  return [
    `<line x1="${p.x0}" y1="${v.toFixed(1)}" x2="${p.x0 + p.w}" y2="${v.toFixed(1)}" stroke="#c0392b" stroke-dasharray="6 4"/>`,
    `<text x="${p.x0 + 4}" y="${(v - 4).toFixed(1)}" font-size="10" fill="#c0392b">${esc(label)}</text>`,
  ];
}

function niceTicks(max: number): number[] {
  const raw = max / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = 0; t <= max + 1e-9; t += step) ticks.push(Number(t.toPrecision(3)));
  return ticks;
}

/**
 * Two panels: loss probability (log) against storage overhead, and against repair traffic, one
 * point per setting of the table; the second also traces the default's threshold sweep.
 */
export function svgPlot(
  rows: readonly StudyRow[],
  sweep: readonly Evaluation[],
  target: number,
  maxOverhead: number,
): string {
  const W = 1000;
  const H = 470;
  const losses = [...rows, ...sweep].map((r) => r.annualLossProbability).filter((x) => x > 0);
  const yMinExp = Math.max(-30, Math.floor(Math.log10(Math.min(...losses, target / 100))));
  const yMaxExp = 0;
  const maxOver = Math.max(...rows.map((r) => r.overhead));
  const a: Panel = {
    x0: 80,
    y0: 40,
    w: 380,
    h: 360,
    xMin: 1.5,
    xMax: Math.ceil(maxOver + 0.5),
    yMinExp,
    yMaxExp,
  };
  const traffic = Math.max(...rows.map((r) => r.repairBytesPerStoredBytePerMonth), 0.1);
  const b: Panel = {
    x0: 580,
    y0: 40,
    w: 380,
    h: 360,
    xMin: 0,
    xMax: niceTicks(traffic * 1.15).at(-1)! + 1e-9,
    yMinExp,
    yMaxExp,
  };
  const kind = (r: StudyRow): Point['kind'] =>
    r.isDefault ? 'default' : r.scheme.k === 1 ? 'replication' : 'rs';
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fafafa"/>`);
  const xTicksA: number[] = [];
  for (let t = Math.ceil(a.xMin * 2) / 2; t <= a.xMax; t += 0.5) xTicksA.push(t);
  out.push(...axes(a, 'storage overhead (stored bytes / file bytes)', xTicksA, 'Loss vs storage'));
  out.push(...hline(a, target, `goal ${sci(target)} / year`));
  const xc = px(a, maxOverhead);
  out.push(
    `<line x1="${xc.toFixed(1)}" y1="${a.y0}" x2="${xc.toFixed(1)}" y2="${a.y0 + a.h}" stroke="#888" stroke-dasharray="3 3"/>`,
    `<text x="${(xc + 4).toFixed(1)}" y="${a.y0 + 12}" font-size="10" fill="#666">${maxOverhead}x cap</text>`,
  );
  out.push(
    ...points(
      a,
      rows.map((r) => ({
        x: r.overhead,
        y: r.annualLossProbability,
        label: `${r.name} r=${r.scheme.repairThreshold}`,
        kind: kind(r),
      })),
    ),
  );
  out.push(
    ...axes(
      b,
      'repair bytes per stored byte per month',
      niceTicks(b.xMax),
      'Loss vs repair traffic',
    ),
  );
  out.push(...hline(b, target, `goal ${sci(target)} / year`));
  if (sweep.length > 1) {
    const path = sweep
      .map(
        (e, i) =>
          `${i ? 'L' : 'M'}${px(b, e.repairBytesPerStoredBytePerMonth).toFixed(1)},${py(b, e.annualLossProbability).toFixed(1)}`,
      )
      .join(' ');
    out.push(`<path d="${path}" fill="none" stroke="#c0392b" stroke-width="1.2" opacity="0.6"/>`);
    for (const e of sweep) {
      out.push(
        `<circle cx="${px(b, e.repairBytesPerStoredBytePerMonth).toFixed(1)}" cy="${py(b, e.annualLossProbability).toFixed(1)}" r="2" fill="#c0392b" opacity="0.6"/>`,
      );
    }
    const first = sweep[0]!;
    out.push(
      `<text x="${(px(b, first.repairBytesPerStoredBytePerMonth) + 6).toFixed(1)}" y="${(py(b, first.annualLossProbability) + 12).toFixed(1)}" font-size="10" fill="#c0392b">${esc(`${first.name}, threshold ${first.scheme.repairThreshold}..${sweep.at(-1)!.scheme.repairThreshold}`)}</text>`,
    );
  }
  out.push(
    ...points(
      b,
      rows.map((r) => ({
        x: r.repairBytesPerStoredBytePerMonth,
        y: r.annualLossProbability,
        label: r.name,
        kind: kind(r),
      })),
    ),
  );
  const ly = H - 18;
  out.push(
    `<circle cx="90" cy="${ly - 4}" r="4" fill="#d9730d"/><text x="98" y="${ly}" font-size="11">replication</text>`,
    `<circle cx="190" cy="${ly - 4}" r="4" fill="#2f6fb5"/><text x="198" y="${ly}" font-size="11">Reed-Solomon (k,m), each at the lowest threshold r meeting the goal with margin (else r = n-1)</text>`,
    `<circle cx="690" cy="${ly - 4}" r="7" fill="none" stroke="#c0392b" stroke-width="2"/><text x="702" y="${ly}" font-size="11">chosen default</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}
