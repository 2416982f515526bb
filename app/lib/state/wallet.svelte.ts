/** Balances and history of the paying account (and the built-in one, which hosts). */
import {
  cairnTokenAbi,
  getDeal,
  marketBalance,
  storageMarketAbi,
  tokenBalance,
  withdraw,
  DealStatus,
} from '@cairn/contracts';
import type { Address } from 'viem';
import { session } from './session.svelte.ts';
import { describe } from './transfer.svelte.ts';

export interface Balances {
  account: Address;
  eth: bigint;
  tokens: bigint;
  /** What the market owes the account outside deals (refunds, earnings withdrawn into it...). */
  market: bigint;
  /** Still escrowed in the account's live deals. */
  escrow: bigint;
  liveDeals: number;
}

export interface HistoryItem {
  block: bigint;
  tx: string;
  what: string;
  amount?: bigint;
  direction: 'in' | 'out' | 'none';
}

class WalletState {
  balances = $state.raw<Balances | null>(null);
  history = $state.raw<HistoryItem[]>([]);
  loading = $state(false);
  busy = $state<string | null>(null);
  error = $state<string | null>(null);
  message = $state<string | null>(null);

  async refresh(): Promise<void> {
    const reader = session.reader;
    const account = session.payer;
    if (!reader || !account) return;
    this.loading = true;
    this.error = null;
    try {
      const [eth, tokens, market, opened] = await Promise.all([
        reader.publicClient.getBalance({ address: account }),
        tokenBalance(reader, account),
        marketBalance(reader, account),
        reader.publicClient.getContractEvents({
          address: reader.config.market,
          abi: storageMarketAbi,
          eventName: 'DealOpened',
          args: { client: account },
          fromBlock: BigInt(reader.config.deployBlock),
          strict: true,
        }),
      ]);
      const deals = await Promise.all(opened.map((l) => getDeal(reader, l.args.dealId)));
      const live = deals.filter((d) => d.status === DealStatus.Active);
      this.balances = {
        account,
        eth,
        tokens,
        market,
        escrow: live.reduce((s, d) => s + d.escrow, 0n),
        liveDeals: live.length,
      };
      const [incoming, outgoing, withdrawn] = await Promise.all([
        reader.publicClient.getContractEvents({
          address: reader.config.token,
          abi: cairnTokenAbi,
          eventName: 'Transfer',
          args: { to: account },
          fromBlock: BigInt(reader.config.deployBlock),
          strict: true,
        }),
        reader.publicClient.getContractEvents({
          address: reader.config.token,
          abi: cairnTokenAbi,
          eventName: 'Transfer',
          args: { from: account },
          fromBlock: BigInt(reader.config.deployBlock),
          strict: true,
        }),
        reader.publicClient.getContractEvents({
          address: reader.config.market,
          abi: storageMarketAbi,
          eventName: 'Withdrawn',
          args: { account },
          fromBlock: BigInt(reader.config.deployBlock),
          strict: true,
        }),
      ]);
      const marketAddress = reader.config.market.toLowerCase();
      const faucet = reader.config.faucet?.toLowerCase();
      const items: HistoryItem[] = [
        ...incoming.map((l) => ({
          block: l.blockNumber,
          tx: l.transactionHash,
          what:
            l.args.from.toLowerCase() === faucet
              ? 'Test tokens from the faucet'
              : l.args.from.toLowerCase() === marketAddress
                ? 'Paid out by the market'
                : `Received from ${short(l.args.from)}`,
          amount: l.args.value,
          direction: 'in' as const,
        })),
        ...outgoing.map((l) => ({
          block: l.blockNumber,
          tx: l.transactionHash,
          what:
            l.args.to.toLowerCase() === marketAddress
              ? 'Paid into the market (deals or stake)'
              : `Sent to ${short(l.args.to)}`,
          amount: l.args.value,
          direction: 'out' as const,
        })),
        ...opened.map((l) => ({
          block: l.blockNumber,
          tx: l.transactionHash,
          what: `Opened deal #${l.args.dealId} with ${short(l.args.host)}`,
          amount: l.args.price,
          direction: 'none' as const,
        })),
        ...withdrawn.map((l) => ({
          block: l.blockNumber,
          tx: l.transactionHash,
          what: 'Withdrew from the market',
          amount: l.args.amount,
          direction: 'none' as const,
        })),
      ];
      this.history = items.sort((a, b) => (a.block > b.block ? -1 : a.block < b.block ? 1 : 0));
    } catch (err) {
      this.error = describe(err);
    } finally {
      this.loading = false;
    }
  }

  async faucet(): Promise<void> {
    this.busy = 'faucet';
    this.error = null;
    this.message = null;
    try {
      await session.getTestTokens();
      this.message = 'Test tokens received.';
      await this.refresh();
    } catch (err) {
      this.error = describe(err);
    } finally {
      this.busy = null;
    }
  }

  async withdraw(): Promise<void> {
    const signer = session.payerSigner;
    if (!signer) return;
    this.busy = 'withdraw';
    this.error = null;
    try {
      await withdraw(signer);
      this.message = 'Withdrawn to your wallet.';
      await this.refresh();
    } catch (err) {
      this.error = describe(err);
    } finally {
      this.busy = null;
    }
  }
}

export function short(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

export const wallet = new WalletState();
