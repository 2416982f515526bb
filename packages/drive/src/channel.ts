/**
 * A bounded single-producer, single-consumer channel: `push` waits while `capacity` items are
 * queued, so a producer never runs more than `capacity` items ahead of its consumer.
 */
export class Channel<T> implements AsyncIterable<T> {
  readonly #capacity: number;
  readonly #items: T[] = [];
  #closed = false;
  #failed: unknown = undefined;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be >= 1');
    this.#capacity = capacity;
  }

  /** Resolves once the item is queued; rejects if the consumer gave up. */
  async push(item: T): Promise<void> {
    while (this.#items.length >= this.#capacity && this.#failed === undefined) {
      await new Promise<void>((resolve) => (this.#wakeProducer = resolve));
    }
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#closed) throw new Error('channel closed');
    this.#items.push(item);
    this.#wake('consumer');
  }

  close(): void {
    this.#closed = true;
    this.#wake('consumer');
  }

  /** The consumer stopped: pending and future pushes reject with `reason`. */
  fail(reason: unknown): void {
    this.#failed = reason ?? new Error('channel failed');
    this.#items.length = 0;
    this.#wake('producer');
  }

  get failed(): boolean {
    return this.#failed !== undefined;
  }

  #wake(who: 'consumer' | 'producer'): void {
    const wake = who === 'consumer' ? this.#wakeConsumer : this.#wakeProducer;
    if (who === 'consumer') this.#wakeConsumer = undefined;
    else this.#wakeProducer = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        const item = this.#items.shift()!;
        this.#wake('producer');
        yield item;
        continue;
      }
      if (this.#closed || this.#failed !== undefined) return;
      await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
    }
  }
}
