/**
 * Probability distributions of durations, in hours, as plain data (so configurations can be
 * printed, compared and validated) with a sampler, a mean and a one-line description.
 */
import type { Rng } from './rng.ts';

export type Dist =
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'exponential'; readonly mean: number }
  | { readonly kind: 'weibull'; readonly shape: number; readonly scale: number }
  | { readonly kind: 'lognormal'; readonly median: number; readonly sigma: number }
  | { readonly kind: 'never' };

export const HOURS_PER_DAY = 24;
export const HOURS_PER_YEAR = 8760;
export const HOURS_PER_MONTH = HOURS_PER_YEAR / 12;

const positive = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;

/**
 * Checks that `d` is a well-formed distribution; throws a TypeError (wrong shape) or RangeError
 * (bad parameter) naming `name` otherwise, and returns it typed.
 */
export function validateDist(d: unknown, name: string): Dist {
  if (d === null || typeof d !== 'object' || !('kind' in d)) {
    throw new TypeError(`${name} must be a distribution object with a kind`);
  }
  const o = d as Record<string, unknown>;
  switch (o.kind) {
    case 'constant':
      if (typeof o.value !== 'number' || !Number.isFinite(o.value) || o.value < 0) {
        throw new RangeError(`${name}: constant value must be a finite number >= 0`);
      }
      return d as Dist;
    case 'exponential':
      if (!positive(o.mean)) throw new RangeError(`${name}: exponential mean must be > 0`);
      return d as Dist;
    case 'weibull':
      if (!positive(o.shape)) throw new RangeError(`${name}: weibull shape must be > 0`);
      if (!positive(o.scale)) throw new RangeError(`${name}: weibull scale must be > 0`);
      return d as Dist;
    case 'lognormal':
      if (!positive(o.median)) throw new RangeError(`${name}: lognormal median must be > 0`);
      if (typeof o.sigma !== 'number' || !Number.isFinite(o.sigma) || o.sigma < 0) {
        throw new RangeError(`${name}: lognormal sigma must be a finite number >= 0`);
      }
      return d as Dist;
    case 'never':
      return d as Dist;
    default:
      throw new RangeError(
        `${name}: unknown distribution kind ${JSON.stringify(o.kind)} (constant, exponential, weibull, lognormal, never)`,
      );
  }
}

/** One draw, in the distribution's unit (hours throughout this package). */
export function sample(d: Dist, rng: Rng): number {
  switch (d.kind) {
    case 'constant':
      return d.value;
    case 'exponential':
      return -d.mean * Math.log(rng.next());
    case 'weibull':
      return d.scale * Math.pow(-Math.log(rng.next()), 1 / d.shape);
    case 'lognormal':
      return d.median * Math.exp(d.sigma * rng.normal());
    case 'never':
      return Infinity;
  }
}

export function distMean(d: Dist): number {
  switch (d.kind) {
    case 'constant':
      return d.value;
    case 'exponential':
      return d.mean;
    case 'weibull':
      return d.scale * gamma(1 + 1 / d.shape);
    case 'lognormal':
      return d.median * Math.exp((d.sigma * d.sigma) / 2);
    case 'never':
      return Infinity;
  }
}

export function distMedian(d: Dist): number {
  switch (d.kind) {
    case 'constant':
      return d.value;
    case 'exponential':
      return d.mean * Math.LN2;
    case 'weibull':
      return d.scale * Math.pow(Math.LN2, 1 / d.shape);
    case 'lognormal':
      return d.median;
    case 'never':
      return Infinity;
  }
}

/** A Weibull distribution with the given shape whose mean is `mean`. */
export function weibullWithMean(shape: number, mean: number): Dist {
  return { kind: 'weibull', shape, scale: mean / gamma(1 + 1 / shape) };
}

/** Human-readable duration: hours below two days, days below two years, else years. */
export function formatHours(h: number): string {
  if (!Number.isFinite(h)) return 'never';
  if (h < 48) return `${round3(h)} h`;
  if (h < 2 * HOURS_PER_YEAR) return `${round3(h / HOURS_PER_DAY)} d`;
  return `${round3(h / HOURS_PER_YEAR)} y`;
}

export function describeDist(d: Dist): string {
  switch (d.kind) {
    case 'constant':
      return `constant ${formatHours(d.value)}`;
    case 'exponential':
      return `exponential, mean ${formatHours(d.mean)}`;
    case 'weibull':
      return `Weibull shape ${round3(d.shape)}, mean ${formatHours(distMean(d))}, median ${formatHours(distMedian(d))}`;
    case 'lognormal':
      return `lognormal, median ${formatHours(d.median)}, sigma ${round3(d.sigma)}`;
    case 'never':
      return 'never';
  }
}

function round3(x: number): string {
  return String(Number(x.toPrecision(3)));
}

/** The gamma function (Lanczos approximation, g = 7), accurate to ~1e-13 for positive x. */
export function gamma(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, z + 0.5) * Math.exp(-t) * a;
}
