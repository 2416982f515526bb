// The real command, as `npm run simulate -- --json` runs it (Node only: it spawns a process).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

describe('cli.ts', () => {
  it('prints JSON lines with --json', { timeout: 60_000 }, () => {
    const out = execFileSync(
      process.execPath,
      [cli, '--quick', '--schemes', '1:1,16:24', '--json'],
      {
        encoding: 'utf8',
      },
    );
    const rows = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { scheme: string; default: boolean });
    expect(rows.map((r) => r.scheme)).toEqual(['2x replication', 'RS(16,24)']);
    expect(rows.filter((r) => r.default)).toHaveLength(1);
  });

  it('prints the usage with --help', () => {
    const out = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/usage: npm run simulate -- \[--json\]/);
  });
});
