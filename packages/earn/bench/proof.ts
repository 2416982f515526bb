// Proof latency and CPU of the host daemon on a local anvil (Node): a host holding 100 shards
// (100 deals, 64 KiB each, 1 KiB leaves) answers three periods of challenges at the market's
// default probabilities. Lines `earn.proof-latency` (s: from the daemon seeing the period's seed
// to each proof mined, median; proofs go one after another, so the max grows with the number
// challenged) and `earn.proof-cpu` (ms of process CPU per proof, median, signing and RPC
// included). Run alone: `node packages/earn/bench/proof.ts [--json]`.
import { HostDaemon, type HostEvent } from '../src/index.ts';
import {
  Events,
  TOKEN,
  TestStore,
  gotoPeriod,
  makeShard,
  openFor,
  period,
  registerHost,
  setup,
} from '../test/helpers.ts';

export interface EarnBenchResult {
  bench: string;
  env: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  note?: string;
}

export async function runEarnBenches(ctx: {
  env: string;
  only?: string;
  report(r: EarnBenchResult): void;
}): Promise<void> {
  const wants = (n: string) => !ctx.only || n.startsWith(ctx.only) || ctx.only.startsWith(n);
  if (!wants('earn.proof-latency') && !wants('earn.proof-cpu')) return;
  const SHARDS = 100;
  const PERIODS = 3;
  const f = await setup({ startBps: 5000, floorBps: 500, halfLife: 8 });
  try {
    const host = f.hosts[0]!;
    await registerHost(f, host, 1000n * TOKEN);
    const store = new TestStore();
    const shards = Array.from({ length: SHARDS }, (_, i) => makeShard(1000 + i, 64 * 1024));
    shards.forEach((s) => store.add(s));
    await openFor(f, host, shards, PERIODS + 1, 1_000_000n);
    const start = (await period(f)) + 1n;
    const events = new Events<HostEvent>();
    const daemon = new HostDaemon({
      reader: f.reader,
      signer: host,
      prove: store.prove,
      onEvent: events.push,
      pollIntervalMs: 100,
      claimEveryPeriods: 0,
    });
    await daemon.start();
    for (let p = start; p < start + BigInt(PERIODS); p++) {
      await gotoPeriod(f, p);
      await events.wait((e) => e.type === 'period' && e.period === p, `period ${p}`, 120_000);
    }
    await daemon.stop();
    const proofs = events.of('proof-submitted');
    if (events.of('proof-failed').length) throw new Error('a proof failed in the benchmark');
    const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
    const at = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
    const lat = sorted(proofs.map((e) => e.latencyMs / 1000));
    const cpu = sorted(proofs.map((e) => e.cpuMs ?? NaN));
    const own = sorted(proofs.map((e) => e.proofCpuMs ?? NaN));
    const perPeriod = (proofs.length / PERIODS).toFixed(0);
    if (wants('earn.proof-latency'))
      ctx.report({
        bench: 'earn.proof-latency',
        env: ctx.env,
        value: at(lat, 0.5),
        unit: 's',
        baseline: null,
        ratio: null,
        note: `${SHARDS} shards, ~${perPeriod} proofs/period sent in turn; p90 ${at(lat, 0.9).toFixed(2)} s, max ${lat.at(-1)!.toFixed(2)} s (automine)`,
      });
    if (wants('earn.proof-cpu'))
      ctx.report({
        bench: 'earn.proof-cpu',
        env: ctx.env,
        value: at(cpu, 0.5),
        unit: 'ms',
        baseline: null,
        ratio: null,
        note: `of which leaf + path + check ${at(own, 0.5).toFixed(2)} ms; the rest is viem (simulate, sign, send, receipt)`,
      });
  } finally {
    await f.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const json = process.argv.includes('--json');
  await runEarnBenches({
    env: 'node',
    report: (r) =>
      console.log(
        json
          ? JSON.stringify(r)
          : `${r.bench.padEnd(24)} ${r.value.toFixed(3)} ${r.unit}  ${r.note ?? ''}`,
      ),
  });
}
