// The app's pure formats: the sealed drive index (index-format.ts), the size filter that finds
// index deals on chain (index-store.ts), and share-link wrapping (share-wrap.ts).
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  IndexFormatError,
  emptyIndex,
  indexKey,
  looksLikeIndex,
  mergeIndexes,
  openIndex,
  sealIndex,
  type DriveFile,
} from '../../app/lib/drive/index-format.ts';
import { isIndexSize } from '../../app/lib/drive/index-store.ts';
import {
  LinkExpiredError,
  WrongPasswordError,
  needsPassword,
  unwrapFragment,
  wrapFragment,
} from '../../app/lib/share-wrap.ts';

const file = (id: string, addedAt = 1): DriveFile => ({
  id,
  fragment: `frag-${id}`,
  name: `${id}.txt`,
  size: 10,
  type: 'text/plain',
  addedAt,
  k: 2,
  n: 4,
  shards: [{ shard: 0, host: '12D3KooWexample', deal: '7' }],
});

describe('drive index', () => {
  it('seals and opens under the drive key; another key or a flipped bit is refused', async () => {
    const key = await indexKey(new Uint8Array(randomBytes(32)));
    const index = { ...emptyIndex(), version: 3, updatedAt: 5, files: [file('a'), file('b')] };
    const sealed = await sealIndex(index, key);
    expect(looksLikeIndex(sealed)).toBe(true);
    expect(isIndexSize(sealed.length)).toBe(true);
    expect(await openIndex(sealed, key)).toEqual(index);
    const other = await indexKey(new Uint8Array(randomBytes(32)));
    await expect(openIndex(sealed, other)).rejects.toBeInstanceOf(IndexFormatError);
    const bad = sealed.slice();
    bad[40]! ^= 1;
    await expect(openIndex(bad, key)).rejects.toBeInstanceOf(IndexFormatError);
    await expect(openIndex(new Uint8Array(64), key)).rejects.toBeInstanceOf(IndexFormatError);
  });

  it('pads: a few files or a few dozen give the same sealed size', async () => {
    const key = await indexKey(new Uint8Array(32));
    const one = await sealIndex({ ...emptyIndex(), files: [file('a')] }, key);
    const ten = await sealIndex(
      { ...emptyIndex(), files: Array.from({ length: 10 }, (_, i) => file(`f${i}`)) },
      key,
    );
    expect(one.length).toBe(ten.length);
    const many = await sealIndex(
      { ...emptyIndex(), files: Array.from({ length: 500 }, (_, i) => file(`f${i}`)) },
      key,
    );
    expect(isIndexSize(many.length)).toBe(true);
    expect(isIndexSize(many.length + 1)).toBe(false);
  });

  it('merges copies by file id, newest version first, deletions kept', () => {
    const a = { ...emptyIndex(), version: 2, files: [file('x', 1), file('y', 2)] };
    const b = { ...emptyIndex(), version: 3, files: [file('z', 3)], removed: ['y'] };
    const m = mergeIndexes(a, b);
    expect(m.version).toBe(3);
    expect(m.files.map((f) => f.id)).toEqual(['z', 'x']);
    expect(m.removed).toEqual(['y']);
  });
});

describe('share link wrapping', () => {
  it('expiry only: opens before, refuses after', async () => {
    const w = await wrapFragment('abc', { expiresAt: 1000 });
    expect(needsPassword(w)).toBe(false);
    expect(await unwrapFragment(w, undefined, 999)).toBe('abc');
    await expect(unwrapFragment(w, undefined, 1001)).rejects.toBeInstanceOf(LinkExpiredError);
  });

  it('password: the right one opens, a wrong or missing one does not', async () => {
    const w = await wrapFragment('the-fragment', { password: 'hunter2' });
    expect(needsPassword(w)).toBe(true);
    expect(w).not.toContain('the-fragment');
    expect(await unwrapFragment(w, 'hunter2')).toBe('the-fragment');
    await expect(unwrapFragment(w, 'hunter3')).rejects.toBeInstanceOf(WrongPasswordError);
    await expect(unwrapFragment(w)).rejects.toBeInstanceOf(WrongPasswordError);
    expect(await unwrapFragment('plain')).toBe('plain');
  });
});
