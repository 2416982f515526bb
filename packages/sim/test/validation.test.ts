// Input validation: bad schemes, distributions, networks and repair policies are refused early.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NETWORK,
  DEFAULT_REPAIR,
  Population,
  Rng,
  distMean,
  sample,
  simulateFiles,
  validateDist,
  validateNetwork,
  validateRepair,
  validateScheme,
  weibullWithMean,
  type Dist,
  type Network,
} from '../src/index.ts';

describe('schemes', () => {
  it.each([
    [{ k: 0, m: 2, repairThreshold: 1 }, /k must be an integer >= 1/],
    [{ k: 2.5, m: 2, repairThreshold: 3 }, /k must be an integer/],
    [{ k: 4, m: 0, repairThreshold: 4 }, /m must be an integer >= 1/],
    [{ k: 200, m: 100, repairThreshold: 250 }, /k \+ m must be <= 256/],
    [
      { k: 4, m: 4, repairThreshold: 8 },
      /repairThreshold must be an integer in \[k, k\+m-1\] = \[4, 7\]/,
    ],
    [{ k: 4, m: 4, repairThreshold: 3 }, /repairThreshold/],
  ])('rejects %o', (scheme, message) => {
    expect(() => validateScheme(scheme)).toThrow(RangeError);
    expect(() => validateScheme(scheme)).toThrow(message);
  });

  it('accepts replication and wide codes', () => {
    expect(validateScheme({ k: 1, m: 2, repairThreshold: 2 })).toBeTruthy();
    expect(validateScheme({ k: 29, m: 51, repairThreshold: 45 })).toBeTruthy();
  });

  it('simulateFiles refuses a bad scheme before doing anything', () => {
    const pop = new Population({ ...DEFAULT_NETWORK, hosts: 20, burnInHours: 0 }, 100, 1);
    expect(() =>
      simulateFiles(pop, { k: 4, m: 4, repairThreshold: 9 }, DEFAULT_REPAIR, {
        files: 1,
        years: 0.001,
        seed: 1,
      }),
    ).toThrow(/repairThreshold/);
    expect(() =>
      simulateFiles(pop, { k: 4, m: 4, repairThreshold: 6 }, DEFAULT_REPAIR, {
        files: 0,
        years: 1,
        seed: 1,
      }),
    ).toThrow(/files/);
  });
});

describe('distributions', () => {
  it.each([
    [null, TypeError, /distribution object/],
    [{ mean: 3 }, TypeError, /distribution object/],
    [{ kind: 'gamma', mean: 3 }, RangeError, /unknown distribution kind "gamma"/],
    [{ kind: 'exponential', mean: -1 }, RangeError, /mean must be > 0/],
    [{ kind: 'exponential', mean: NaN }, RangeError, /mean must be > 0/],
    [{ kind: 'weibull', shape: 0, scale: 1 }, RangeError, /shape must be > 0/],
    [{ kind: 'weibull', shape: 1, scale: Infinity }, RangeError, /scale must be > 0/],
    [{ kind: 'lognormal', median: 1, sigma: -1 }, RangeError, /sigma/],
    [{ kind: 'constant', value: -2 }, RangeError, /constant value/],
  ])('rejects %o', (d, type, message) => {
    expect(() => validateDist(d, 'x')).toThrow(type);
    expect(() => validateDist(d, 'x')).toThrow(message);
  });

  it('samples have the stated means', () => {
    const rng = new Rng(1, 'dist');
    const dists: Dist[] = [
      { kind: 'exponential', mean: 5 },
      weibullWithMean(0.6, 4),
      weibullWithMean(2, 10),
      { kind: 'lognormal', median: 1, sigma: 0.5 },
      { kind: 'constant', value: 3 },
    ];
    for (const d of dists) {
      let sum = 0;
      const N = 100_000;
      for (let i = 0; i < N; i++) sum += sample(d, rng);
      expect(Math.abs(sum / N - distMean(d)) / distMean(d)).toBeLessThan(0.03);
    }
    expect(sample({ kind: 'never' }, rng)).toBe(Infinity);
  });

  it('the generator is seeded, in (0, 1), and streams are independent of each other', () => {
    const a = new Rng(42, 'x');
    const b = new Rng(42, 'x');
    const c = new Rng(42, 'y');
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(c.next()).not.toBe(xs[0]);
    expect(xs.every((x) => x > 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.05);
  });
});

describe('networks and repair policies', () => {
  const browser = DEFAULT_NETWORK.classes[0]!;
  const bad: [string, Network, RegExp][] = [
    [
      'shares not summing to 1',
      { ...DEFAULT_NETWORK, classes: [{ ...browser, share: 0.5 }] },
      /sum to 1/,
    ],
    ['too few hosts', { ...DEFAULT_NETWORK, hosts: 1 }, /hosts must be an integer >= 2/],
    ['no classes', { ...DEFAULT_NETWORK, classes: [] }, /one or two host classes/],
    [
      'a bad lifetime',
      {
        ...DEFAULT_NETWORK,
        classes: [{ ...browser, share: 1, lifetime: { kind: 'weibull', shape: -1, scale: 2 } }],
      },
      /classes\[0\]\.lifetime: weibull shape/,
    ],
    [
      'a probability above 1',
      {
        ...DEFAULT_NETWORK,
        classes: [
          {
            ...browser,
            share: 1,
            online: {
              ...(browser.online as never as object),
              kind: 'diurnal',
              awayStart: 2,
            } as never,
          },
        ],
      },
      /awayStart must be a probability/,
    ],
    [
      'an unknown online model',
      {
        ...DEFAULT_NETWORK,
        classes: [{ ...browser, share: 1, online: { kind: 'sometimes' } as never }],
      },
      /online\.kind/,
    ],
  ];
  it.each(bad)('rejects %s', (_, network, message) => {
    expect(() => validateNetwork(network)).toThrow(message);
    expect(() => new Population(network, 100, 1)).toThrow(message);
  });

  it('rejects bad repair policies', () => {
    expect(() => validateRepair({ ...DEFAULT_REPAIR, offlineTimeoutHours: -1 })).toThrow(
      /offlineTimeoutHours/,
    );
    expect(() => validateRepair({ ...DEFAULT_REPAIR, repairerBitsPerSecond: 0 })).toThrow(
      /repairerBitsPerSecond/,
    );
    expect(() => validateRepair({ ...DEFAULT_REPAIR, extraDelay: { kind: 'never' } })).toThrow(
      /extraDelay must be finite/,
    );
    expect(() =>
      validateRepair({ ...DEFAULT_REPAIR, extraDelay: { kind: 'exponential', mean: 0 } }),
    ).toThrow(/extraDelay: exponential mean/);
  });
});
