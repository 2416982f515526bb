// The Monte Carlo: the closed-form case the issue asks for, calibration, determinism, daily rhythm.
// Node only: seconds of CPU, and nothing browser-specific.
import { describe, expect, it } from 'vitest';
import {
  BROWSER_HOST,
  DEFAULT_REPAIR,
  Population,
  calibrate,
  closedFormCheck,
  simulateFiles,
  type Network,
  type RepairPolicy,
} from '../src/index.ts';

const exponentialNetwork = (mean: number, hosts = 400): Network => ({
  name: 'exponential',
  hosts,
  burnInHours: 0,
  classes: [
    {
      name: 'server',
      share: 1,
      lifetime: { kind: 'exponential', mean },
      diskLossPerYear: 0,
      online: {
        kind: 'always',
        outageInterval: { kind: 'never' },
        outageLength: { kind: 'constant', value: 0 },
      },
    },
  ],
});

const instantRepair: RepairPolicy = {
  offlineTimeoutHours: 0,
  checkIntervalHours: 0,
  repairerBitsPerSecond: 1e300,
  extraDelay: { kind: 'exponential', mean: 24 },
  fileBytes: 1,
};

describe('closed form', () => {
  it('2-way replication, exponential lifetimes and repair: mean time to loss (3 lambda + mu) / (2 lambda^2)', () => {
    const c = closedFormCheck(1, 200);
    expect(c.formulaHours).toBeCloseTo(1560, 6);
    expect(c.losses).toBeGreaterThan(1500); // standard error ~ 1/sqrt(losses) < 3%
    expect(Math.abs(c.mcMeanHours - c.formulaHours) / c.formulaHours).toBeLessThan(0.1);
    expect(Math.abs(c.chainHours - c.formulaHours) / c.formulaHours).toBeLessThan(1e-9);
  });

  it('calibration recovers the exponential loss rate', () => {
    const pop = new Population(exponentialNetwork(500), 8760 + 2000, 'cal');
    const cal = calibrate(pop, instantRepair, { seed: 1, files: 40, years: 1 });
    expect(cal.rates).toHaveLength(1);
    expect(Math.abs(1 / cal.rates[0]! - 500) / 500).toBeLessThan(0.05);
    expect(cal.placement).toEqual([1]);
    expect(cal.lossKinds.departure).toBe(1);
    expect(cal.onlineByHour[0]!.every((p) => p === 1)).toBe(true);
  });
});

describe('determinism', () => {
  const network: Network = {
    name: 'small browser-heavy',
    hosts: 200,
    burnInHours: 2000,
    classes: [
      { ...BROWSER_HOST, share: 0.8 },
      {
        name: 'node',
        share: 0.2,
        lifetime: { kind: 'exponential', mean: 8000 },
        diskLossPerYear: 0.02,
        online: {
          kind: 'always',
          outageInterval: { kind: 'exponential', mean: 720 },
          outageLength: { kind: 'lognormal', median: 1, sigma: 1.5 },
        },
      },
    ],
  };
  const run = (seed: number) => {
    const pop = new Population(network, 4000, seed);
    return simulateFiles(pop, { k: 4, m: 4, repairThreshold: 6 }, DEFAULT_REPAIR, {
      files: 10,
      years: 0.3,
      seed,
      sampleEveryHours: 7,
    });
  };

  it('the same seed gives the same run; another seed another', () => {
    const a = run(7);
    const b = run(7);
    const c = run(8);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(a.repairs).toBeGreaterThan(0);
    expect(a.samples).toBeGreaterThan(0);
  });

  it('browser hosts follow their day: more online in the local evening than at 4 am', () => {
    const oneZone: Network = {
      name: 'one time zone',
      hosts: 300,
      burnInHours: 0,
      classes: [
        {
          ...BROWSER_HOST,
          share: 1,
          lifetime: { kind: 'never' },
          online: {
            ...(BROWSER_HOST.online as Extract<typeof BROWSER_HOST.online, { kind: 'diurnal' }>),
            timezones: [{ offsetHours: 0, weight: 1 }],
            timezoneJitterHours: 0,
            overnightShare: 0,
          },
        },
      ],
    };
    const pop = new Population(oneZone, 24 * 60, 3);
    const at = (hour: number) => {
      let on = 0;
      let all = 0;
      for (let day = 5; day < 55; day++) {
        for (const h of pop.hosts) {
          all++;
          if (pop.isOnline(h, day * 24 + hour)) on++;
        }
      }
      return on / all;
    };
    expect(at(4)).toBe(0);
    expect(at(20)).toBeGreaterThan(0.4);
    const overall = pop.hosts.reduce((s, h) => {
      let t = 0;
      for (let i = 0; i < h.on.length; i += 2) t += h.on[i + 1]! - h.on[i]!;
      return s + t / pop.horizon;
    }, 0);
    expect(overall / pop.hosts.length).toBeGreaterThan(0.3);
    expect(overall / pop.hosts.length).toBeLessThan(0.7);
  });
});
