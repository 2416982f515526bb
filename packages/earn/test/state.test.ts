// State stores and the waiting helpers; runs in Node and in Chromium.
import { describe, expect, it } from 'vitest';
import { ContractRevertError } from '@cairn/contracts';
import {
  LocalStorageState,
  MemoryState,
  StoppedError,
  TimeoutError,
  isRetryable,
} from '../src/index.ts';
import { JSON_BIGINT, mapLimit, resolveRetry, retry, sleep, withTimeout } from '../src/util.ts';

class FakeStorage {
  readonly map = new Map<string, string>();
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
}

describe('state stores', () => {
  it('memory: get what was set', async () => {
    const s = new MemoryState();
    expect(s.get('a')).toBeUndefined();
    s.set('a', '1');
    expect(s.get('a')).toBe('1');
  });

  it('localStorage: prefixed keys in the given storage', () => {
    const storage = new FakeStorage();
    const s = new LocalStorageState(storage, 'x:');
    s.set('k', 'v');
    expect(storage.map.get('x:k')).toBe('v');
    expect(new LocalStorageState(storage, 'x:').get('k')).toBe('v');
    expect(s.get('other')).toBeNull();
  });

  it("localStorage: the page's own by default, a clear error where there is none", () => {
    const ls = (globalThis as { localStorage?: Storage }).localStorage;
    if (ls) {
      const s = new LocalStorageState();
      s.set('test-key', 'v');
      expect(ls.getItem('cairn-earn:test-key')).toBe('v');
      ls.removeItem('cairn-earn:test-key');
    } else {
      expect(() => new LocalStorageState()).toThrow(/no localStorage/);
    }
  });

  it('bigints survive the JSON round trip', () => {
    const v = { a: 1n, b: [2n, 'x'], c: 3, d: '4' };
    expect(JSON_BIGINT.parse(JSON_BIGINT.stringify(v))).toEqual(v);
  });
});

describe('waits', () => {
  it('sleep stops at once when aborted', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = sleep(10_000, ac.signal);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(StoppedError);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('withTimeout bounds a call that never answers', async () => {
    await expect(withTimeout(new Promise(() => {}), 30, 'rpc')).rejects.toBeInstanceOf(
      TimeoutError,
    );
    await expect(withTimeout(Promise.resolve(7), 30, 'rpc')).resolves.toBe(7);
  });

  it('retry: transport errors with backoff, never a revert', async () => {
    const opts = resolveRetry({ attempts: 3, baseDelayMs: 5, timeoutMs: 1000 });
    let n = 0;
    const flaky = () => (++n < 3 ? Promise.reject(new Error('fetch failed')) : Promise.resolve(n));
    await expect(retry('x', flaky, opts)).resolves.toBe(3);

    n = 0;
    const revert = new ContractRevertError('submitProof', { name: 'InvalidProof', args: [1n] });
    await expect(retry('x', () => (n++, Promise.reject(revert)), opts)).rejects.toBe(revert);
    expect(n).toBe(1);
    expect(isRetryable(revert)).toBe(false);
    expect(isRetryable(new Error('socket hang up'))).toBe(true);

    n = 0;
    await expect(retry('x', () => (n++, Promise.reject(new Error('down'))), opts)).rejects.toThrow(
      'down',
    );
    expect(n).toBe(3);

    // a hung attempt times out and counts as one
    n = 0;
    const hung = resolveRetry({ attempts: 2, baseDelayMs: 5, timeoutMs: 20 });
    await expect(retry('x', () => (n++, new Promise(() => {})), hung)).rejects.toBeInstanceOf(
      TimeoutError,
    );
    expect(n).toBe(2);
  });

  it('mapLimit keeps order and the limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (x) => {
      peak = Math.max(peak, ++inFlight);
      await sleep(5);
      inFlight--;
      return x * 2;
    });
    expect(out).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(peak).toBe(3);
  });
});
