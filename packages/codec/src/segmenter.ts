/**
 * Cutting a byte stream into segments with bounded memory: at most one segment is buffered,
 * whatever the size of the stream or of its chunks.
 */

export type ByteSource =
  Uint8Array | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | Iterable<Uint8Array>;

/** Iterates bytes in memory (one chunk), a ReadableStream, or an (async) iterable of chunks. */
export async function* iterateBytes(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
  } else if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  } else {
    yield* source as AsyncIterable<Uint8Array>;
  }
}

/**
 * Yields segments of exactly `size` bytes, the final one shorter (possibly empty only when the
 * whole stream is empty). Each yielded array is fresh and owned by the consumer (it may be
 * transferred to a worker).
 */
export async function* segmentBytes(
  source: ByteSource,
  size: number,
): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new RangeError(`segment size must be > 0, got ${size}`);
  let buffer = new Uint8Array(size);
  let filled = 0;
  let yielded = false;
  for await (const chunk of iterateBytes(source)) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('source must yield Uint8Array chunks');
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(size - filled, chunk.length - offset);
      buffer.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === size) {
        yield buffer;
        yielded = true;
        buffer = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0 || !yielded) yield buffer.slice(0, filled);
}
