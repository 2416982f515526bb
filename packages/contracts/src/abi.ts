// A small ABI codec: the subset of Solidity's ABI the Cairn contracts use (uintN, intN, address,
// bool, bytesN, bytes, string, dynamic arrays, tuples). viem is not installed in this workspace;
// the ABIs in ./generated/abis.ts are `as const` in viem's shape, so viem can replace this file.
import { keccak_256 } from '@noble/hashes/sha3.js';

export type Hex = `0x${string}`;

export interface AbiParam {
  readonly type: string;
  readonly name?: string;
  readonly indexed?: boolean;
  readonly components?: readonly AbiParam[];
}

export interface AbiItem {
  readonly type: string;
  readonly name?: string;
  readonly inputs?: readonly AbiParam[];
  readonly outputs?: readonly AbiParam[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function toHex(bytes: Uint8Array): Hex {
  let s = '0x';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s as Hex;
}

export function fromHex(hex: string): Uint8Array {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (h.length % 2) throw new RangeError(`odd-length hex: ${hex.slice(0, 20)}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function keccak256(data: Uint8Array | string): Hex {
  return toHex(keccak_256(typeof data === 'string' ? enc.encode(data) : data));
}

export function canonicalType(p: AbiParam): string {
  if (p.type.startsWith('tuple'))
    return `(${p.components!.map(canonicalType).join(',')})${p.type.slice(5)}`;
  return p.type;
}

export function signature(item: AbiItem): string {
  return `${item.name}(${(item.inputs ?? []).map(canonicalType).join(',')})`;
}

export function selector(item: AbiItem): Hex {
  return keccak256(signature(item)).slice(0, 10) as Hex;
}

function isDynamic(p: AbiParam): boolean {
  if (p.type === 'bytes' || p.type === 'string' || p.type.endsWith('[]')) return true;
  if (p.type === 'tuple') return p.components!.some(isDynamic);
  return false;
}

const element = (p: AbiParam): AbiParam => ({ ...p, type: p.type.slice(0, -2) });

function word(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = BigInt.asUintN(256, n);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 32) * 32);
  out.set(bytes);
  return out;
}

function encodeOne(p: AbiParam, value: unknown): Uint8Array {
  const t = p.type;
  if (t.endsWith('[]')) {
    const items = value as unknown[];
    return concat([
      word(BigInt(items.length)),
      encodeTuple(
        items.map(() => element(p)),
        items,
      ),
    ]);
  }
  if (t === 'tuple') {
    const comps = p.components!;
    const values = Array.isArray(value)
      ? value
      : comps.map((c) => (value as Record<string, unknown>)[c.name!]);
    return encodeTuple(comps, values);
  }
  if (t === 'bytes' || t === 'string') {
    const bytes = t === 'string' ? enc.encode(value as string) : toBytes(value);
    return concat([word(BigInt(bytes.length)), padded(bytes)]);
  }
  if (t === 'address') return word(BigInt(value as string));
  if (t === 'bool') return word(value ? 1n : 0n);
  if (t.startsWith('uint') || t.startsWith('int')) return word(BigInt(value as bigint | number));
  if (t.startsWith('bytes')) {
    const out = new Uint8Array(32);
    out.set(toBytes(value));
    return out;
  }
  throw new TypeError(`unsupported ABI type ${t}`);
}

function toBytes(value: unknown): Uint8Array {
  return value instanceof Uint8Array ? value : fromHex(value as string);
}

function encodeTuple(params: readonly AbiParam[], values: readonly unknown[]): Uint8Array {
  if (params.length !== values.length)
    throw new RangeError(`expected ${params.length} values, got ${values.length}`);
  const heads: Uint8Array[] = [];
  const tails: Uint8Array[] = [];
  let headSize = 0;
  for (const p of params) headSize += isDynamic(p) ? 32 : staticSize(p);
  let tailAt = headSize;
  params.forEach((p, i) => {
    const encoded = encodeOne(p, values[i]);
    if (isDynamic(p)) {
      heads.push(word(BigInt(tailAt)));
      tails.push(encoded);
      tailAt += encoded.length;
    } else heads.push(encoded);
  });
  return concat([...heads, ...tails]);
}

function staticSize(p: AbiParam): number {
  return p.type === 'tuple' ? p.components!.reduce((n, c) => n + staticSize(c), 0) : 32;
}

export function encodeParams(params: readonly AbiParam[], values: readonly unknown[]): Hex {
  return toHex(encodeTuple(params, values));
}

function readWord(data: Uint8Array, at: number): bigint {
  let v = 0n;
  for (let i = 0; i < 32; i++) v = (v << 8n) | BigInt(data[at + i] ?? 0);
  return v;
}

function decodeOne(p: AbiParam, data: Uint8Array, at: number): unknown {
  if (isDynamic(p)) {
    const base = Number(readWord(data, at));
    return decodeAt(p, data, base);
  }
  return decodeAt(p, data, at);
}

function decodeAt(p: AbiParam, data: Uint8Array, at: number): unknown {
  const t = p.type;
  if (t.endsWith('[]')) {
    const n = Number(readWord(data, at));
    const el = element(p);
    return decodeTuple(
      Array.from({ length: n }, () => el),
      data.subarray(at + 32),
    );
  }
  if (t === 'tuple') {
    const values = decodeTuple(p.components!, data.subarray(at));
    return Object.fromEntries(p.components!.map((c, i) => [c.name || String(i), values[i]]));
  }
  if (t === 'bytes' || t === 'string') {
    const n = Number(readWord(data, at));
    const bytes = data.slice(at + 32, at + 32 + n);
    return t === 'string' ? dec.decode(bytes) : toHex(bytes);
  }
  const w = readWord(data, at);
  if (t === 'address') return ('0x' + w.toString(16).padStart(40, '0')) as Hex;
  if (t === 'bool') return w !== 0n;
  if (t.startsWith('uint')) return w;
  if (t.startsWith('int')) return BigInt.asIntN(Number(t.slice(3)), w);
  if (t.startsWith('bytes')) return toHex(data.slice(at, at + Number(t.slice(5))));
  throw new TypeError(`unsupported ABI type ${t}`);
}

function decodeTuple(params: readonly AbiParam[], data: Uint8Array): unknown[] {
  const out: unknown[] = [];
  let at = 0;
  for (const p of params) {
    out.push(decodeOne(p, data, at));
    at += isDynamic(p) ? 32 : staticSize(p);
  }
  return out;
}

export function decodeParams(params: readonly AbiParam[], data: Hex | Uint8Array): unknown[] {
  return decodeTuple(params, typeof data === 'string' ? fromHex(data) : data);
}

export function findItem(abi: readonly AbiItem[], type: string, name: string): AbiItem {
  const item = abi.find((i) => i.type === type && i.name === name);
  if (!item) throw new TypeError(`no ${type} ${name} in ABI`);
  return item;
}

export function encodeFunctionData(
  abi: readonly AbiItem[],
  name: string,
  args: readonly unknown[],
): Hex {
  const fn = findItem(abi, 'function', name);
  return (selector(fn) + encodeParams(fn.inputs ?? [], args).slice(2)) as Hex;
}

export interface DecodedError {
  name: string;
  args: unknown[];
}

/** Decodes revert data against an ABI's custom errors (and Error(string) / Panic(uint256)). */
export function decodeErrorData(abi: readonly AbiItem[], data: Hex): DecodedError | undefined {
  const sel = data.slice(0, 10);
  const body = `0x${data.slice(10)}` as Hex;
  const builtins: AbiItem[] = [
    { type: 'error', name: 'Error', inputs: [{ type: 'string' }] },
    { type: 'error', name: 'Panic', inputs: [{ type: 'uint256' }] },
  ];
  for (const item of [...abi, ...builtins]) {
    if (item.type === 'error' && selector(item) === sel) {
      return { name: item.name!, args: decodeParams(item.inputs ?? [], body) };
    }
  }
  return undefined;
}

export interface Log {
  address: Hex;
  topics: Hex[];
  data: Hex;
}

export interface DecodedEvent {
  name: string;
  args: Record<string, unknown>;
}

export function decodeEventLog(abi: readonly AbiItem[], log: Log): DecodedEvent | undefined {
  for (const item of abi) {
    if (item.type !== 'event' || keccak256(signature(item)) !== log.topics[0]) continue;
    const inputs = item.inputs ?? [];
    const indexed = inputs.filter((i) => i.indexed);
    const plain = inputs.filter((i) => !i.indexed);
    const data = decodeParams(plain, log.data);
    const args: Record<string, unknown> = {};
    indexed.forEach((p, i) => (args[p.name!] = decodeParams([p], log.topics[i + 1]!)[0]));
    plain.forEach((p, i) => (args[p.name!] = data[i]));
    return { name: item.name!, args };
  }
  return undefined;
}
