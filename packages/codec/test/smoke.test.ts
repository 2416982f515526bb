import { expect, test } from 'vitest';
import { concatBytes, toHex } from '../src/bytes.ts';

test('runs', () => {
  expect(toHex(concatBytes(new Uint8Array([1]), new Uint8Array([255])))).toBe('01ff');
});
