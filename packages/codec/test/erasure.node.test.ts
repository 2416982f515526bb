// The committed gf-kernel.wat is what scripts/gen-rs-wat.ts generates (the .wasm.ts beside it is
// checked against the .wat by wasm-build.node.test.ts).
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { generateWat } from '../scripts/gen-rs-wat.ts';

test('gf-kernel.wat is up to date (run `node packages/codec/scripts/gen-rs-wat.ts`)', () => {
  const wat = readFileSync(new URL('../src/erasure/gf-kernel.wat', import.meta.url), 'utf8');
  expect(wat).toBe(generateWat());
});
