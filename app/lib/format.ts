/** Numbers as people read them. */
import { formatUnits } from 'viem';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–';
  let i = 0;
  let v = n;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`;
}

export function speed(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${bytes(bytesPerSecond)}/s` : '–';
}

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'estimating…';
  if (seconds < 1) return 'less than a second';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export function date(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Token amounts (18 decimals), trimmed to a readable precision. */
export function tokens(base: bigint | string | undefined, symbol = 'CAIRN'): string {
  if (base === undefined) return '–';
  const v = typeof base === 'string' ? BigInt(base) : base;
  const text = formatUnits(v, 18);
  const [whole = '0', frac = ''] = text.split('.');
  // Four decimals, or for amounts under one token three significant digits (hosts earn in tiny
  // amounts per period on a test network, and "0" would be a lie).
  const first = frac.search(/[1-9]/);
  const keep = whole === '0' && first >= 0 ? Math.max(4, first + 3) : 4;
  const digits = frac.slice(0, keep).replace(/0+$/, '');
  return `${digits ? `${whole}.${digits}` : whole} ${symbol}`;
}

export function eth(wei: bigint): string {
  return tokens(wei, 'ETH');
}

/** A transaction hash (or any long 0x hex) shortened for display: `0x1234…cdef`. */
export function shortHash(hash: string): string {
  return hash.length > 14 ? `${hash.slice(0, 6)}…${hash.slice(-4)}` : hash;
}
