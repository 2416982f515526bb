import fc from 'fast-check';
import { expect, test } from 'vitest';
import { concatBytes } from '../src/bytes.ts';
import { segmentBytes } from '../src/segmenter.ts';

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

test('segments are full except the last, whatever the chunking', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.integer({ min: 1, max: 200 }),
      async (chunks, size) => {
        const segments = await collect(segmentBytes(chunks, size));
        const total = chunks.reduce((a, c) => a + c.length, 0);
        expect(segments.length).toBe(Math.max(1, Math.ceil(total / size)));
        segments.slice(0, -1).forEach((s) => expect(s.length).toBe(size));
        expect(concatBytes(...segments)).toEqual(concatBytes(...chunks));
      },
    ),
  );
});

test('reads a ReadableStream', async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array([1, 2, 3]));
      c.enqueue(new Uint8Array([4, 5]));
      c.close();
    },
  });
  const segments = await collect(segmentBytes(stream, 2));
  expect(segments.map((s) => [...s])).toEqual([[1, 2], [3, 4], [5]]);
});

test('rejects non-byte chunks and bad sizes', async () => {
  await expect(collect(segmentBytes(['nope' as unknown as Uint8Array], 4))).rejects.toThrow(
    TypeError,
  );
  await expect(collect(segmentBytes([], 0))).rejects.toThrow(RangeError);
});
