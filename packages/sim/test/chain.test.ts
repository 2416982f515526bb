// The Markov chain against closed forms and against its own exact transient solution.
import { describe, expect, it } from 'vitest';
import {
  buildChain,
  meanTimeToLoss,
  solveChain,
  solveCycles,
  unavailability,
  validateChainSpec,
  type ChainSpec,
} from '../src/index.ts';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('chain: closed forms', () => {
  const lambda = 0.01;
  const mu = 0.5;

  it('2-way replication: MTTDL = (3 lambda + mu) / (2 lambda^2)', () => {
    const chain = buildChain({
      k: 1,
      n: 2,
      threshold: 1,
      rates: [lambda],
      placement: [1],
      repairMeanHours: 1 / mu,
      phases: 1,
    });
    const formula = (3 * lambda + mu) / (2 * lambda * lambda);
    expect(rel(meanTimeToLoss(chain), formula)).toBeLessThan(1e-9);
    expect(rel(solveCycles(chain, 8760).meanTimeToLoss, formula)).toBeLessThan(1e-9);
  });

  it('3-way replication, repair of all missing copies at once: MTTDL = (11 l^2 + 6 l mu + mu^2) / (6 l^3)', () => {
    const chain = buildChain({
      k: 1,
      n: 3,
      threshold: 2,
      rates: [lambda],
      placement: [1],
      repairMeanHours: 1 / mu,
      phases: 1,
    });
    const formula = (11 * lambda ** 2 + 6 * lambda * mu + mu ** 2) / (6 * lambda ** 3);
    expect(rel(meanTimeToLoss(chain), formula)).toBeLessThan(1e-9);
    expect(rel(solveCycles(chain, 8760).meanTimeToLoss, formula)).toBeLessThan(1e-9);
  });

  it('2-way replication: loss within t matches the two-exponential transient solution', () => {
    const chain = buildChain({
      k: 1,
      n: 2,
      threshold: 1,
      rates: [lambda],
      placement: [1],
      repairMeanHours: 1 / mu,
      phases: 1,
    });
    // Survival from state 2: generator [[-2l, 2l], [mu, -(l+mu)]] on {2, 1}.
    const tr = -3 * lambda - mu;
    const det = 2 * lambda * (lambda + mu) - 2 * lambda * mu;
    const s1 = (tr + Math.sqrt(tr * tr - 4 * det)) / 2;
    const s2 = (tr - Math.sqrt(tr * tr - 4 * det)) / 2;
    for (const t of [10, 100, 1000]) {
      const survival = (-s2 / (s1 - s2)) * Math.exp(s1 * t) + (s1 / (s1 - s2)) * Math.exp(s2 * t);
      expect(rel(solveChain(chain, t).lossProbability, 1 - survival)).toBeLessThan(1e-8);
    }
  });

  it('no repair: loss within t is (1 - e^(-lambda t))^r', () => {
    for (const r of [2, 3, 5]) {
      const chain = buildChain({
        k: 1,
        n: r,
        threshold: r - 1,
        rates: [lambda],
        placement: [1],
        repairMeanHours: 1e15,
        phases: 1,
      });
      const t = 150;
      expect(
        rel(solveChain(chain, t).lossProbability, (1 - Math.exp(-lambda * t)) ** r),
      ).toBeLessThan(1e-8);
    }
  });

  it('keeps full precision for tiny probabilities (no 1 - survival)', () => {
    // 2x with a very fast repair: P(loss in t) ~ t / MTTDL ~ 1e-14.
    const l = 1e-5;
    const m = 1e2;
    const chain = buildChain({
      k: 1,
      n: 2,
      threshold: 1,
      rates: [l],
      placement: [1],
      repairMeanHours: 1 / m,
      phases: 1,
    });
    const mttdl = (3 * l + m) / (2 * l * l);
    const p = solveChain(chain, 1).lossProbability;
    expect(p).toBeGreaterThan(0);
    // Starting with both copies, the first hour is slightly safer than the long-run rate.
    expect(p).toBeLessThan(1 / mttdl);
    expect(p).toBeGreaterThan(0.5 / mttdl);
  });
});

describe('chain: cycle solver against the exact transient solution', () => {
  const cases: ChainSpec[] = [
    {
      k: 1,
      n: 3,
      threshold: 2,
      rates: [1 / 1100, 1 / 15000],
      placement: [0.66, 0.34],
      repairMeanHours: 80,
      phases: 6,
    },
    {
      k: 4,
      n: 8,
      threshold: 6,
      rates: [1 / 1100, 1 / 15000],
      placement: [0.66, 0.34],
      repairMeanHours: 80,
      phases: 4,
    },
    {
      k: 10,
      n: 20,
      threshold: 14,
      rates: [1 / 1100, 1 / 15000],
      placement: [0.66, 0.34],
      repairMeanHours: 80,
      phases: 8,
    },
  ];
  it.each(cases)(
    '(%#) loss per year, repairs, unavailability and mean time to loss agree',
    (spec) => {
      const chain = buildChain(spec);
      const exact = solveChain(chain, 8760);
      const hours = Array.from(
        { length: 24 },
        (_, h) => 0.5 + 0.1 * Math.sin((h / 24) * 2 * Math.PI),
      );
      const online = [hours, Array<number>(24).fill(0.99)];
      const cycles = solveCycles(chain, 8760, online);
      // Cycles are counted by their mean length, and a cycle started before the horizon counts
      // whole: close to the exact value, and not below it by more than a little.
      expect(cycles.lossProbability / exact.lossProbability).toBeGreaterThan(0.95);
      expect(cycles.lossProbability / exact.lossProbability).toBeLessThan(1.1);
      expect(rel(cycles.repairs, exact.repairs)).toBeLessThan(0.1);
      expect(rel(cycles.unavailability, unavailability(chain, exact, online))).toBeLessThan(0.05);
      // (Gaussian elimination loses a few digits on the larger chains; state reduction does not.)
      expect(rel(cycles.meanTimeToLoss, meanTimeToLoss(chain))).toBeLessThan(1e-6);
    },
  );
});

describe('chain: availability', () => {
  it('2 copies, each online with probability p: unavailable (1 - p)^2 while both count', () => {
    const chain = buildChain({
      k: 1,
      n: 2,
      threshold: 1,
      rates: [1e-9],
      placement: [1],
      repairMeanHours: 1,
      phases: 1,
    });
    const p = 0.7;
    const u = solveCycles(chain, 8760, [Array<number>(24).fill(p)]).unavailability;
    expect(rel(u, (1 - p) ** 2)).toBeLessThan(1e-4);
  });
});

describe('chain: input validation', () => {
  const ok: ChainSpec = {
    k: 2,
    n: 4,
    threshold: 3,
    rates: [0.01],
    placement: [1],
    repairMeanHours: 10,
    phases: 2,
  };
  it.each([
    [{ k: 0 }, /k must be/],
    [{ n: 2 }, /n must be an integer > k/],
    [{ threshold: 4 }, /threshold/],
    [{ threshold: 1 }, /threshold/],
    [{ rates: [-1] }, /rates/],
    [{ rates: [0.1, 0.1, 0.1], placement: [0.3, 0.3, 0.4] }, /one or two/],
    [{ placement: [0.5] }, /sum to 1/],
    [{ repairMeanHours: 0 }, /repairMeanHours/],
    [{ phases: 1.5 }, /phases/],
  ] as const)('rejects %o', (patch, message) => {
    expect(() => validateChainSpec({ ...ok, ...patch } as ChainSpec)).toThrow(message);
    expect(() => buildChain({ ...ok, ...patch } as ChainSpec)).toThrow(RangeError);
  });
});
