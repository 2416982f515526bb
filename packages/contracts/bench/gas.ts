// Gas of the market's transactions on anvil's default hardfork, as benchmark lines
// (`chain.gas.*`, unit gas). Run alone: `node packages/contracts/bench/gas.ts [--json]`.
import { createHash } from 'node:crypto';
import { MERKLE_LEAF_SIZE } from '@cairn/codec';
import { createTestClient, http, toHex, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import {
  abandonDeal,
  approveMarket,
  challengeFor,
  claim,
  createChainReader,
  createChainSigner,
  currentPeriod,
  marketGenesis,
  openDeals,
  openRepairDeals,
  openedDealIds,
  poke,
  register,
  reportMiss,
  setMandate,
  settle,
  signQuote,
  submitProof,
  transferToken,
  withdraw,
  type ChainSigner,
  type DealRequest,
  type Quote,
} from '../src/index.ts';
import { deploy, startAnvil, TOKEN } from '../src/node.ts';

export interface GasBenchResult {
  bench: string;
  env: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  note?: string;
}

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/**
 * A shard of 2^depth identical leaves: every node of a level is equal, so the root takes `depth`
 * hashes and the proof of any leaf is the same list (the leaf bytes are random, so calldata is as
 * dense as a real proof's).
 */
function uniformShard(depth: number, leafSize: number) {
  const leaf = new Uint8Array(leafSize);
  for (let i = 0; i < leafSize; i++) leaf[i] = 1 + ((i * 131 + depth * 7) % 255);
  let node = sha256(new Uint8Array([0]), leaf);
  const siblings: Uint8Array[] = [];
  for (let l = 0; l < depth; l++) {
    siblings.push(node);
    node = sha256(new Uint8Array([1]), node, node);
  }
  const proof = new Uint8Array(32 * depth);
  siblings.forEach((s, i) => proof.set(s, 32 * i));
  return {
    root: toHex(node),
    leaf,
    proof,
    leafCount: 2n ** BigInt(depth),
    size: 2n ** BigInt(depth) * BigInt(leafSize),
  };
}

/**
 * What a transaction's calldata costs: `standard` = 21000 + 4 per zero byte + 16 per other byte
 * (execution is paid on top), `floor` = 21000 + 10 per zero byte + 40 per other byte (EIP-7623:
 * the transaction pays at least this, whatever its execution costs).
 */
export function calldataCost(input: Hex): { bytes: number; standard: number; floor: number } {
  const bytes = (input.length - 2) / 2;
  let zeros = 0;
  for (let i = 2; i < input.length; i += 2) if (input.slice(i, i + 2) === '00') zeros++;
  const tokens = zeros + 4 * (bytes - zeros);
  return { bytes, standard: 21000 + 4 * tokens, floor: 21000 + 10 * tokens };
}

export async function runGasBenches(ctx: {
  env?: string;
  only?: string;
  report(r: GasBenchResult): void;
}) {
  const env = ctx.env ?? 'anvil';
  const wants = (name: string) =>
    !ctx.only || name.startsWith(ctx.only) || ctx.only.startsWith(name);
  const anvil = await startAnvil();
  try {
    const config = await deploy({
      rpcUrl: anvil.rpcUrl,
      params: { periodSeconds: 3600, startBps: 10_000, floorBps: 10_000, maxMisses: 3 },
      pollingInterval: 20,
    });
    const reader = createChainReader(config, { pollingInterval: 20 });
    // anvil's dev accounts (its default mnemonic), signing here as the app does
    const signers = Array.from({ length: 10 }, (_, i) =>
      createChainSigner(
        config,
        mnemonicToAccount('test test test test test test test test test test test junk', {
          addressIndex: i,
        }),
        { pollingInterval: 20, reader },
      ),
    );
    const [deployer, ...rest] = signers as [ChainSigner, ...ChainSigner[]];
    const hosts = rest.slice(0, 8);
    const client = rest[8]!;
    const testClient = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) });
    const genesis = await marketGenesis(reader);
    const goto = async (p: bigint) => {
      const now = (await reader.publicClient.getBlock()).timestamp;
      const target = genesis + p * 3600n + 60n;
      if (target > now) {
        await testClient.increaseTime({ seconds: Number(target - now) });
        await testClient.mine({ blocks: 1 });
      }
    };
    const period = () => currentPeriod(reader);
    for (const h of [...hosts, deployer]) {
      if (h !== deployer) await transferToken(deployer, h.account, 1_000_000n * TOKEN);
      await approveMarket(h, 2n ** 255n);
      await register(h, { peerId: '0x1234', pricePerBytePeriod: 0n, stake: 1_000_000n * TOKEN });
    }
    await transferToken(deployer, client.account, 10_000_000n * TOKEN);
    await approveMarket(client, 2n ** 255n);
    let nonce = 1n;
    const request = async (
      host: ChainSigner,
      shard: { root: Hex; leafCount: bigint; size: bigint },
      leafSize: number,
    ): Promise<DealRequest> => {
      const quote: Quote = {
        host: host.account,
        root: shard.root,
        size: shard.size,
        leafCount: shard.leafCount,
        leafSize,
        duration: 100,
        price: 100n * TOKEN,
        expiry: 2n ** 40n,
        nonce: nonce++,
      };
      return { ...quote, repairOf: 0n, signature: await signQuote(host, client.account, quote) };
    };

    const allHosts = [...hosts, deployer, ...hosts.slice(0, 1)];
    const small = uniformShard(10, 1024);

    // Opening deals: one shard alone vs a 10-shard file in one transaction.
    const one = await openDeals(client, [await request(hosts[0]!, small, 1024)]);
    const ten: DealRequest[] = [];
    for (let i = 0; i < 10; i++)
      ten.push(await request(allHosts[i % allHosts.length]!, small, 1024));
    const batch = await openDeals(client, ten);
    const single = Number(one.gasUsed);
    if (wants('chain.gas.open-deals.1'))
      ctx.report({
        bench: 'chain.gas.open-deals.1',
        env,
        value: single,
        unit: 'gas',
        baseline: null,
        ratio: null,
      });
    if (wants('chain.gas.open-deals.10'))
      ctx.report({
        bench: 'chain.gas.open-deals.10',
        env,
        value: Number(batch.gasUsed),
        unit: 'gas',
        baseline: 10 * single,
        ratio: Number(batch.gasUsed) / (10 * single),
        note: `${Math.round(Number(batch.gasUsed) / 10)} per shard; baseline 10 separate transactions`,
      });

    // Proofs at several depths and leaf sizes, in steady state (the previous period was proven too,
    // so each proof also settles one period). `chain.gas.proof.dN` uses the codec's leaf size
    // (MERKLE_LEAF_SIZE, 1 KiB); `.leaf256` lines show what smaller leaves would cost.
    const cases: [number, number][] = [
      [10, 256],
      [20, 256],
      [30, 256],
      [10, 1024],
      [20, 1024],
      [30, 1024],
    ];
    const proofDeals: {
      id: bigint;
      host: ChainSigner;
      shard: ReturnType<typeof uniformShard>;
      name: string;
    }[] = [];
    for (const [i, [depth, leafSize]] of cases.entries()) {
      const shard = uniformShard(depth, leafSize);
      const host = hosts[i % hosts.length]!;
      const r = await openDeals(client, [await request(host, shard, leafSize)]);
      const id = openedDealIds(r)[0]!;
      proofDeals.push({
        id,
        host,
        shard,
        name: `chain.gas.proof.d${depth}${leafSize === MERKLE_LEAF_SIZE ? '' : `.leaf${leafSize}`}`,
      });
    }
    const start = (await period()) + 1n;
    const gas = new Map<string, number>();
    const floors = new Map<string, ReturnType<typeof calldataCost>>();
    for (let p = start; p < start + 2n; p++) {
      await goto(p);
      await poke(client);
      for (const d of proofDeals) {
        const c = await challengeFor(reader, d.id, p);
        if (!c.challenged) throw new Error('bench deals are always challenged');
        const r = await submitProof(d.host, d.id, d.shard.leaf, d.shard.proof);
        const { input } = await reader.publicClient.getTransaction({ hash: r.transactionHash });
        gas.set(d.name, Number(r.gasUsed));
        floors.set(d.name, calldataCost(input));
      }
    }
    for (const [i, d] of proofDeals.entries()) {
      const leafSize = cases[i]![1];
      const c = floors.get(d.name)!;
      if (wants(d.name))
        ctx.report({
          bench: d.name,
          env,
          value: gas.get(d.name)!,
          unit: 'gas',
          baseline: null,
          ratio: null,
          note: `leaf ${leafSize} B, ${c.bytes} B calldata; EIP-7623 floor ${c.floor}, execution ~${gas.get(d.name)! - c.standard}`,
        });
    }

    // Claim (settle + collect + transfer) one deal after one more period; plain withdraw.
    await goto(start + 2n);
    const claimed = await claim(proofDeals[0]!.host, [proofDeals[0]!.id]);
    if (wants('chain.gas.withdraw'))
      ctx.report({
        bench: 'chain.gas.withdraw',
        env,
        value: Number(claimed.gasUsed),
        unit: 'gas',
        baseline: null,
        ratio: null,
        note: 'claim(1 deal): settle 1 period, collect, transfer',
      });

    // A missed challenge reported by a third party.
    const missed = proofDeals[1]!;
    await poke(client); // period start+2 seeded, not proven
    await goto(start + 3n);
    await settle(deployer, missed.id, 1n); // settle up to the miss
    const report = await reportMiss(deployer, missed.id, start + 2n);
    if (wants('chain.gas.report-miss'))
      ctx.report({
        bench: 'chain.gas.report-miss',
        env,
        value: Number(report.gasUsed),
        unit: 'gas',
        baseline: null,
        ratio: null,
        note: 'settle 1 period, slash, reward',
      });
    const withdrawn = await withdraw(deployer);
    if (wants('chain.gas.withdraw-balance'))
      ctx.report({
        bench: 'chain.gas.withdraw-balance',
        env,
        value: Number(withdrawn.gasUsed),
        unit: 'gas',
        baseline: null,
        ratio: null,
        note: 'withdraw() of a reporter reward',
      });

    // Repairs of a failed slot (a host abandoned it): by the client itself, and by a mediator
    // under the client's mandate (one deal each, same terms). anvil funds ten accounts with ETH:
    // the mediator is a host's account.
    const mediator = hosts[7]!;
    const failed: bigint[] = [];
    for (const host of hosts.slice(1, 3)) {
      const [id] = openedDealIds(await openDeals(client, [await request(host, small, 1024)]));
      await abandonDeal(host, id!);
      failed.push(id!);
    }
    const own = await openDeals(client, [
      { ...(await request(hosts[3]!, small, 1024)), repairOf: failed[0]! },
    ]);
    const mandate = await setMandate(client, mediator.account, {
      budget: 1000n * TOKEN,
      expiry: 2n ** 40n,
    });
    const delegated = await openRepairDeals(mediator, client.account, [
      { ...(await request(hosts[4]!, small, 1024)), repairOf: failed[1]! },
    ]);
    if (wants('chain.gas.open-repair-deals.1'))
      ctx.report({
        bench: 'chain.gas.open-repair-deals.1',
        env,
        value: Number(delegated.gasUsed),
        unit: 'gas',
        baseline: Number(own.gasUsed),
        ratio: Number(delegated.gasUsed) / Number(own.gasUsed),
        note: `a mediator's repair under a mandate; baseline the client's own openDeals repair (${own.gasUsed})`,
      });
    if (wants('chain.gas.set-mandate'))
      ctx.report({
        bench: 'chain.gas.set-mandate',
        env,
        value: Number(mandate.gasUsed),
        unit: 'gas',
        baseline: null,
        ratio: null,
        note: 'first mandate of a client to a mediator',
      });
  } finally {
    await anvil.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const json = process.argv.includes('--json');
  await runGasBenches({
    report: (r) =>
      console.log(
        json
          ? JSON.stringify(r)
          : `${r.bench.padEnd(36)} ${r.env.padEnd(8)} ${String(r.value).padStart(8)} gas${r.note ? `  (${r.note})` : ''}`,
      ),
  });
}
