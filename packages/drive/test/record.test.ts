// File records: placements (with the deals paying for them) sealed under the file key; version 1
// records (no deal ids) still open; tampering, a wrong key and unknown versions are refused.
import { describe, expect, it } from 'vitest';
import {
  ByteWriter,
  WrongKeyError,
  copyBytes,
  deriveAesGcmKey,
  encodeFile,
  sealManifest,
  type Manifest,
} from '@cairn/codec';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { generateKeyPair } from '@libp2p/crypto/keys';
import {
  InvalidRecordError,
  PLACEMENTS_INFO,
  RECORD_MAGIC,
  encodeFileRecord,
  openFileRecord,
} from '../src/index.ts';

async function sealed(): Promise<{ manifest: Manifest; sealed: Uint8Array; key: Uint8Array }> {
  const encoding = encodeFile(new Uint8Array(5000).fill(3), { k: 2, m: 2 });
  for await (const _ of encoding);
  const manifest = encoding.manifest();
  return {
    manifest,
    sealed: await sealManifest(manifest, encoding.fileKey),
    key: encoding.fileKey,
  };
}

const peer = async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();

describe('file records', () => {
  it('round-trip placements with their deal ids; a wrong key or a flipped bit is refused', async () => {
    const { sealed: m, key } = await sealed();
    const [a, b] = [await peer(), await peer()];
    const placements = [
      { shard: 0, host: a, dealId: 0n },
      { shard: 1, host: b, dealId: 41n },
      { shard: 2, host: a },
      { shard: 3, host: b, dealId: 2n ** 40n },
    ];
    const record = await encodeFileRecord(m, placements, key);
    expect((await openFileRecord(record, key)).placements).toEqual(placements);
    await expect(openFileRecord(record, new Uint8Array(32))).rejects.toBeInstanceOf(WrongKeyError);
    const flipped = record.slice();
    flipped[flipped.length - 3]! ^= 1;
    await expect(openFileRecord(flipped, key)).rejects.toBeInstanceOf(InvalidRecordError);
    const future = record.slice();
    future[RECORD_MAGIC.length] = 9;
    await expect(openFileRecord(future, key)).rejects.toThrow(/version 9/);
    await expect(encodeFileRecord(m, [{ shard: 0, host: a, dealId: -1n }], key)).rejects.toThrow(
      RangeError,
    );
  });

  it('still opens a version 1 record (no deal ids)', async () => {
    const { sealed: m, key } = await sealed();
    const host = await peer();
    const { peerIdFromString } = await import('@libp2p/peer-id');
    const head = new ByteWriter().bytes(RECORD_MAGIC).u8(1).lengthPrefixed(m).finish();
    const body = new ByteWriter()
      .varint(1)
      .varint(2)
      .lengthPrefixed(peerIdFromString(host).toMultihash().bytes)
      .finish();
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const aes = await deriveAesGcmKey(key, undefined, PLACEMENTS_INFO);
    const sealedBody = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv: nonce, additionalData: copyBytes(head) },
        aes,
        copyBytes(body),
      ),
    );
    const record = new ByteWriter().bytes(head).bytes(nonce).bytes(sealedBody).finish();
    expect((await openFileRecord(record, key)).placements).toEqual([{ shard: 2, host }]);
  });
});
