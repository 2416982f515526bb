import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileState } from '../src/node.ts';

const dir = mkdtempSync(join(tmpdir(), 'cairn-earn-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FileState', () => {
  it('persists across instances, atomically, readable only by the owner', () => {
    const path = join(dir, 'sub', 'state.json');
    const a = new FileState(path);
    expect(a.get('k')).toBeUndefined();
    a.set('k', 'v1');
    a.set('j', 'w');
    const b = new FileState(path);
    expect(b.get('k')).toBe('v1');
    expect(b.get('j')).toBe('w');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['state.json']); // no temporary file left
    expect(statSync(path).mode & 0o077).toBe(0);
  });

  it('a damaged file is an error that names it, not a silent reset', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{not json');
    expect(() => new FileState(path).get('k')).toThrow(/bad\.json/);
  });
});
