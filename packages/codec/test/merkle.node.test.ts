import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { assemble, outputPath } from '../scripts/build-wasm.ts';
import { generate, watPath } from '../scripts/gen-sha256-wat.ts';
import { makeVectors } from '../scripts/make-merkle-vectors.ts';

test('sha256-simd.wat is what scripts/gen-sha256-wat.ts generates, and its .wasm.ts is up to date', async () => {
  expect(readFileSync(watPath, 'utf8')).toBe(generate());
  expect(readFileSync(outputPath(watPath), 'utf8')).toBe(await assemble(watPath));
});

test('vectors/merkle-sha256-v1.json is what the independent reference generates', () => {
  const path = new URL('../vectors/merkle-sha256-v1.json', import.meta.url);
  expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(makeVectors());
});
