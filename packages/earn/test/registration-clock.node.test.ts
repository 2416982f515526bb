// ensureRegistered signs its permits against the chain's clock: a host restarted on a chain whose
// time is ahead of this machine's (a local chain moved by time travel, or a skewed clock) still
// tops its stake up. (With deadlines from Date.now() the permit had expired on chain, the market
// fell back to an allowance of 0 and addCollateral reverted.)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getHost, tokenBalance } from '@cairn/contracts';
import { ensureRegistered } from '../src/index.ts';
import { TOKEN, setup, type Fixture } from './helpers.ts';
import { devAccount, fund } from '../../contracts/test/helpers.ts';

let f: Fixture;
beforeAll(async () => {
  f = await setup();
}, 60_000);
afterAll(() => f?.stop());

it('tops the stake up by permit when the chain is a day ahead of the wall clock', async () => {
  const host = f.signer(devAccount(9));
  await fund(f, host.account, 100n * TOKEN);
  const want = { peerId: '12D3KooWclock', pricePerBytePeriod: 1n, stake: 40n * TOKEN };
  expect((await ensureRegistered(host, { ...want, useFaucet: false })).action).toBe('registered');
  await f.increaseTime(86_400n);
  const more = await ensureRegistered(host, { ...want, stake: 70n * TOKEN, useFaucet: false });
  expect(more.action).toBe('topped-up');
  expect((await getHost(f.reader, host.account)).stake).toBe(70n * TOKEN);
  expect(await tokenBalance(f.reader, host.account)).toBe(30n * TOKEN);
});
