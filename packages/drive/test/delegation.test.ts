// The delegation message: canonical bytes, the owner's signature, and the mediator's book
// (later replaces earlier, withdrawals leave a mark, snapshots verify again).
import { describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import {
  DelegationBook,
  DelegationRefusedError,
  decodeDelegation,
  delegationHash,
  encodeDelegation,
  encodeDelegationRequest,
  signDelegation,
  verifyDelegation,
  type Delegation,
  type DelegationBookSnapshot,
} from '../src/index.ts';

const owner = privateKeyToAccount(`0x${'11'.repeat(32)}`);
const other = privateKeyToAccount(`0x${'22'.repeat(32)}`);
const mediator = privateKeyToAccount(`0x${'33'.repeat(32)}`).address;
const HOST = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf';

function delegation(over: Partial<Delegation> = {}): Delegation {
  return {
    kind: 'delegate',
    chainId: 31337,
    client: owner.address,
    mediator,
    id: 'thesis',
    issuedAt: 1_700_000_000_000,
    set: {
      paddedSize: 4096,
      k: 1,
      m: 1,
      pieceSize: 4096,
      leafSize: 1024,
      roots: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)],
    },
    placements: [
      { shard: 0, host: HOST, dealId: 1n },
      { shard: 1, host: HOST, dealId: 2n },
    ],
    ...over,
  };
}

const refusal = (code: string) =>
  expect.objectContaining({ name: 'DelegationRefusedError', code }) as unknown;

describe('delegation messages', () => {
  it('round-trip canonically and verify against the client', async () => {
    const d = delegation();
    const body = encodeDelegation(d);
    expect(decodeDelegation(body)).toEqual(d);
    expect(encodeDelegation(decodeDelegation(body))).toEqual(body);
    const request = await signDelegation(owner, d);
    const signed = await verifyDelegation(request);
    expect(signed.delegation).toEqual(d);
    const withdrawal = delegation({ kind: 'withdraw', placements: [] });
    delete withdrawal.set;
    expect((await verifyDelegation(await signDelegation(owner, withdrawal))).delegation).toEqual(
      withdrawal,
    );
  });

  it('refuse another key, a changed byte, garbage', async () => {
    const body = encodeDelegation(delegation());
    const forged = encodeDelegationRequest(
      body,
      await other.signMessage({ message: { raw: delegationHash(body) } }),
    );
    await expect(verifyDelegation(forged)).rejects.toEqual(refusal('bad-signature'));
    const request = await signDelegation(owner, delegation());
    const tampered = request.slice();
    tampered[30]! ^= 1;
    await expect(verifyDelegation(tampered)).rejects.toBeInstanceOf(DelegationRefusedError);
    await expect(verifyDelegation(new Uint8Array([1, 2, 3]))).rejects.toEqual(refusal('malformed'));
    await expect(signDelegation(other, delegation())).rejects.toThrow(/cannot sign/);
    expect(() =>
      decodeDelegation(
        encodeDelegation(delegation({ placements: [{ shard: 5, host: HOST, dealId: 1n }] })),
      ),
    ).toThrow(/shard 5 of 2/);
  });
});

describe('the delegation book', () => {
  it('keeps the latest per (client, id), marks withdrawals, and survives a snapshot', async () => {
    let saved: DelegationBookSnapshot | undefined;
    const book = new DelegationBook({ persist: async (s) => void (saved = s) });
    const at = (issuedAt: number, over: Partial<Delegation> = {}) =>
      signDelegation(owner, delegation({ issuedAt, ...over })).then(verifyDelegation);
    expect(await book.apply(await at(10))).toBe('accepted');
    expect(await book.apply(await at(20))).toBe('updated');
    await expect(book.apply(await at(15))).rejects.toEqual(refusal('stale'));
    expect(book.files()).toHaveLength(1);
    // A repair moved shard 0: the snapshot keeps the new placement.
    book.files()[0]!.placements[0] = { shard: 0, host: HOST, dealId: 9n };
    await book.save();
    const restored = await DelegationBook.load(JSON.parse(JSON.stringify(saved)));
    expect(restored.files()[0]!.placements[0]!.dealId).toBe(9n);
    expect(restored.files()[0]!.set.roots[1]).toEqual(new Uint8Array(32).fill(2));

    const withdrawal = delegation({ kind: 'withdraw', issuedAt: 30, placements: [] });
    delete withdrawal.set;
    expect(
      await restored.apply(await verifyDelegation(await signDelegation(owner, withdrawal))),
    ).toBe('withdrawn');
    expect(restored.size).toBe(0);
    // The old delegation cannot be replayed after the withdrawal.
    await expect(restored.apply(await at(20))).rejects.toEqual(refusal('stale'));
    expect(await restored.apply(await at(40))).toBe('accepted');
  });
});
