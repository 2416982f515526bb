// ensureRegistered on a real chain: a fresh wallet registers with its stake (tokens from the
// local faucet), a second start changes nothing, a new price or peer id updates the record, a
// larger stake is topped up, and a wallet that cannot pay is told so before any transaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InsufficientBalanceError, getHost, tokenBalance } from '@cairn/contracts';
import { ensureRegistered } from '../src/index.ts';
import { TOKEN, setup, type Fixture } from './helpers.ts';
import { devAccount } from '../../contracts/test/helpers.ts';

let f: Fixture;
beforeAll(async () => {
  f = await setup();
}, 60_000);
afterAll(() => f?.stop());

describe('ensureRegistered', () => {
  it('registers, then leaves alone, updates and tops up as asked', async () => {
    const host = f.signer(devAccount(7));
    expect(await tokenBalance(f.reader, host.account)).toBe(0n);
    const want = { peerId: '12D3KooWfirst', pricePerBytePeriod: 3n, stake: 500n * TOKEN };

    const first = await ensureRegistered(host, want);
    expect(first.action).toBe('registered');
    expect(first.dripped).toBe(10_000n * TOKEN);
    expect(first.record).toMatchObject({ registered: true, stake: 500n * TOKEN });
    expect(first.record.pricePerBytePeriod).toBe(3n);
    expect(await tokenBalance(f.reader, host.account)).toBe(9_500n * TOKEN);

    const again = await ensureRegistered(host, want);
    expect(again).toMatchObject({ action: 'unchanged', dripped: 0n });

    const moved = await ensureRegistered(host, { ...want, peerId: '12D3KooWsecond' });
    expect(moved.action).toBe('updated');
    expect(Buffer.from(moved.record.peerId.slice(2), 'hex').toString()).toBe('12D3KooWsecond');

    const more = await ensureRegistered(host, {
      ...want,
      peerId: '12D3KooWsecond',
      stake: 800n * TOKEN,
    });
    expect(more.action).toBe('topped-up');
    expect(more.record.stake).toBe(800n * TOKEN);
    expect(await tokenBalance(f.reader, host.account)).toBe(9_200n * TOKEN);
  });

  it('a wallet without the stake gets InsufficientBalanceError and nothing is registered', async () => {
    const poor = f.signer(devAccount(8));
    const err = await ensureRegistered(poor, {
      peerId: '12D3KooWpoor',
      pricePerBytePeriod: 1n,
      stake: 100n * TOKEN,
      useFaucet: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientBalanceError);
    expect((err as InsufficientBalanceError).needed).toBe(100n * TOKEN);
    expect((await getHost(f.reader, poor.account)).registered).toBe(false);
  });
});
