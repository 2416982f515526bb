// The committed *.wasm.ts modules are exactly what their *.wat sources assemble to.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { assemble, outputPath, watFiles } from '../scripts/build-wasm.ts';

test('every .wat source has an up-to-date .wasm.ts (run `npm run build:wasm`)', async () => {
  const files = watFiles();
  expect(files.length).toBeGreaterThan(0);
  for (const wat of files) {
    expect(readFileSync(outputPath(wat), 'utf8'), wat).toBe(await assemble(wat));
  }
});
