// The study end to end on small runs: JSON lines, the default's choice, determinism, the docs.
// Node only: seconds of CPU, and nothing browser-specific.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REDUNDANCY,
  alignTables,
  chooseDefault,
  durabilityDoc,
  runCli,
  svgPlot,
  type CliIo,
  type Evaluation,
} from '../src/index.ts';

function cli(argv: string[]) {
  let out = '';
  let err = '';
  const docs = new Map<string, string>();
  const io: CliIo = {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    writeDoc: (name, content) => docs.set(name, content),
    now: () => 0,
  };
  const code = runCli(argv, io);
  return { code, out, err, docs };
}

const QUICK = ['--quick', '--schemes', '1:2,4:4,16:24'];

describe('npm run simulate -- --json', () => {
  const run = cli([...QUICK, '--json', '--seed', '5']);

  it('prints one JSON object per setting, with the fields the issue names', () => {
    expect(run.code).toBe(0);
    const lines = run.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of rows) {
      expect(typeof r.scheme).toBe('string');
      for (const key of [
        'overhead',
        'annual_loss_probability',
        'availability',
        'repair_bytes_per_stored_byte_per_month',
      ]) {
        expect(typeof r[key], key).toBe('number');
        expect(Number.isFinite(r[key]), key).toBe(true);
      }
      expect(typeof r.default).toBe('boolean');
      expect(r.annual_loss_probability as number).toBeGreaterThanOrEqual(0);
      expect(r.annual_loss_probability as number).toBeLessThanOrEqual(1);
      expect(r.availability as number).toBeGreaterThan(0);
      expect(r.availability as number).toBeLessThanOrEqual(1);
    }
    expect(rows.map((r) => r.scheme)).toEqual(['3x replication', 'RS(4,4)', 'RS(16,24)']);
    expect(rows.map((r) => r.overhead)).toEqual([3, 2, 2.5]);
    // Exactly one default: the only setting meeting eleven nines under 3x here.
    expect(rows.filter((r) => r.default === true)).toHaveLength(1);
    expect(rows.find((r) => r.default)!.scheme).toBe('RS(16,24)');
    expect(rows.find((r) => r.default)!.annual_loss_probability as number).toBeLessThan(1e-11);
  });

  it('is deterministic with a seed', () => {
    expect(cli([...QUICK, '--json', '--seed', '5']).out).toBe(run.out);
    expect(cli([...QUICK, '--json', '--seed', '6']).out).not.toBe(run.out);
  });

  it('refuses unknown arguments and bad scheme lists with the usage', () => {
    const bad = cli(['--frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown argument "--frobnicate"/);
    expect(bad.err).toMatch(/usage: npm run simulate/);
    expect(cli(['--schemes', '4-4']).err).toMatch(/expected k:m pairs/);
    expect(cli(['--seed']).err).toMatch(/--seed needs a value/);
    expect(() => cli(['--quick', '--schemes', '4:0'])).toThrow(/m must be an integer >= 1/);
  });
});

describe('the default', () => {
  const row = (
    k: number,
    m: number,
    loss: number,
    traffic: number,
  ): Evaluation & { meetsGoal: boolean } =>
    ({
      scheme: { k, m, repairThreshold: k + m - 1 },
      name: `RS(${k},${m})`,
      n: k + m,
      overhead: (k + m) / k,
      annualLossProbability: loss,
      repairBytesPerStoredBytePerMonth: traffic,
      meetsGoal: loss <= 1e-12,
    }) as Evaluation & { meetsGoal: boolean };

  it('meets the goal under the cap, is cheap in bytes, and breaks ties by fewer shards', () => {
    const rows = [
      row(1, 2, 1e-3, 0.4), // fails
      row(8, 8, 1e-13, 0.2), // cheapest: 2 * 1.2 = 2.4
      row(10, 30, 1e-14, 0.1), // 4x: over the cap
      row(12, 12, 1e-13, 0.3), // 2.6: a tie with 8+8, more shards
      row(16, 24, 1e-13, 0.3), // 3.25: not a tie
    ];
    expect(chooseDefault(rows, 3)).toBe(1);
    rows[1] = row(8, 8, 1e-9, 0.2);
    expect(chooseDefault(rows, 3)).toBe(3);
    expect(chooseDefault([row(1, 2, 1e-3, 0.4)], 3)).toBe(-1);
  });

  it('the exported default is a valid, repairable scheme under 3x', () => {
    const { k, m, repairThreshold } = DEFAULT_REDUNDANCY;
    expect(k + m).toBeLessThanOrEqual(256);
    expect(repairThreshold).toBeGreaterThan(k);
    expect(repairThreshold).toBeLessThan(k + m);
    expect((k + m) / k).toBeLessThan(3);
  });
});

describe('docs', () => {
  it('--write-docs writes the page and the plot from the same run', { timeout: 120_000 }, () => {
    const run = cli([...QUICK, '--write-docs']);
    expect(run.code).toBe(0);
    const md = run.docs.get('durability.md')!;
    const svg = run.docs.get('durability.svg')!;
    expect(md).toMatch(/^# Durability/);
    expect(md).toContain('**Default: RS(16,24)');
    expect(md).toMatch(/\| scheme +\| +n \| overhead \|/);
    expect(alignTables(md)).toBe(md); // tables laid out as Prettier does
    expect(md).toContain('(3 lambda + mu) / (2 lambda^2)');
    expect(md).toContain('## Assumptions');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('RS(16,24)');
    for (const name of ['3x replication', 'RS(4,4)', 'RS(16,24)']) expect(md).toContain(name);
  });

  it('the plot marks the default and draws the goal line', () => {
    const svg = svgPlot([], [], 1e-11, 3);
    expect(svg).toContain('goal 1.0e-11 / year');
    expect(svg).toContain('chosen default');
    expect(typeof durabilityDoc).toBe('function');
  });
});
