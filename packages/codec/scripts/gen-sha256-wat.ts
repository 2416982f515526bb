// Generates packages/codec/src/merkle/sha256-simd.wat: a 4-lane multi-buffer SHA-256 for the
// Merkle tree, one independent message per i32x4 lane, with the 64 rounds fully unrolled (the
// working variables are renamed per round instead of moved). Run:
//   node packages/codec/scripts/gen-sha256-wat.ts && npm run build:wasm
// The output is committed; test/merkle.node.test.ts checks it is up to date.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHA256_IV, SHA256_K } from '../src/merkle/sha256.ts';

// Constants as unsigned numbers, for the text of the module.
const K = [...SHA256_K].map((x) => x >>> 0);
const IV = [...SHA256_IV].map((x) => x >>> 0);

// Fixed scratch addresses in linear memory: the lanes' chaining state (8 x v128) and the
// current block's message words (16 x v128). Inputs start at 1024 or later (see simd.ts).
const ST = 0;
const WS = 128;

const splat = (x: number): string => `(v128.const i32x4 ${x | 0} ${x | 0} ${x | 0} ${x | 0})`;
const get = (name: string): string => `(local.get $${name})`;
const rotr = (name: string, n: number): string =>
  `(v128.or (i32x4.shr_u ${get(name)} (i32.const ${n})) (i32x4.shl ${get(name)} (i32.const ${32 - n})))`;
const xor3 = (a: string, b: string, c: string): string => `(v128.xor (v128.xor ${a} ${b}) ${c})`;
const add = (...xs: string[]): string => xs.reduce((acc, x) => `(i32x4.add ${acc} ${x})`);

function compress(): string {
  const out: string[] = [];
  const vars = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const w = (i: number): string => `w${i % 16}`;
  out.push('  (func $compress');
  out.push(`    ${[...vars, 't1'].map((v) => `(local $${v} v128)`).join(' ')}`);
  out.push(`    ${Array.from({ length: 16 }, (_, i) => `(local $w${i} v128)`).join(' ')}`);
  vars.forEach((v, i) =>
    out.push(`    (local.set $${v} (v128.load offset=${ST + 16 * i} (i32.const 0)))`),
  );
  for (let i = 0; i < 16; i++)
    out.push(`    (local.set $w${i} (v128.load offset=${WS + 16 * i} (i32.const 0)))`);
  for (let t = 0; t < 64; t++) {
    // Role r of this round lives in local vars[(r - t) mod 8]: no moves between rounds.
    const v = (r: number): string => vars[(((r - t) % 8) + 8) % 8]!;
    const [a, b, c, d, e, f, g, h] = [0, 1, 2, 3, 4, 5, 6, 7].map(v) as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (t >= 16) {
      const s0 = `(v128.xor (v128.xor ${rotr(w(t - 15), 7)} ${rotr(w(t - 15), 18)}) (i32x4.shr_u ${get(w(t - 15))} (i32.const 3)))`;
      const s1 = `(v128.xor (v128.xor ${rotr(w(t - 2), 17)} ${rotr(w(t - 2), 19)}) (i32x4.shr_u ${get(w(t - 2))} (i32.const 10)))`;
      out.push(`    (local.set $${w(t)} ${add(get(w(t)), s0, get(w(t - 7)), s1)})`);
    }
    const bigS1 = xor3(rotr(e, 6), rotr(e, 11), rotr(e, 25));
    const ch = `(v128.bitselect ${get(f)} ${get(g)} ${get(e)})`;
    out.push(
      `    (local.set $t1 ${add(get(h), bigS1, ch, `(i32x4.add ${splat(K[t]!)} ${get(w(t))})`)})`,
    );
    out.push(`    (local.set $${d} (i32x4.add ${get(d)} (local.get $t1)))`);
    const bigS0 = xor3(rotr(a, 2), rotr(a, 13), rotr(a, 22));
    const maj = `(v128.bitselect ${get(c)} ${get(a)} (v128.xor ${get(a)} ${get(b)}))`;
    out.push(`    (local.set $${h} ${add('(local.get $t1)', bigS0, maj)})`);
  }
  vars.forEach((v, i) =>
    out.push(
      `    (v128.store offset=${ST + 16 * i} (i32.const 0) (i32x4.add (v128.load offset=${ST + 16 * i} (i32.const 0)) ${get(v)}))`,
    ),
  );
  out.push('  )');
  return out.join('\n');
}

// Byte-swap and 4x4 transpose in two shuffle stages: rows r0..r3 hold 4 little-endian words of
// lanes 0..3; the outputs hold word q of every lane, big-endian. The same code turns the state
// vectors back into digests (a transpose is its own inverse and commutes with the swap).
const SWAP_LO = '3 2 1 0 19 18 17 16 7 6 5 4 23 22 21 20';
const SWAP_HI = '11 10 9 8 27 26 25 24 15 14 13 12 31 30 29 28';
const PAIR_LO = '0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23';
const PAIR_HI = '8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31';
function transpose(rows: string[], store: (q: number, value: string) => string): string[] {
  const [r0, r1, r2, r3] = rows as [string, string, string, string];
  return [
    `(local.set $s0 (i8x16.shuffle ${SWAP_LO} ${r0} ${r1}))`,
    `(local.set $s1 (i8x16.shuffle ${SWAP_HI} ${r0} ${r1}))`,
    `(local.set $s2 (i8x16.shuffle ${SWAP_LO} ${r2} ${r3}))`,
    `(local.set $s3 (i8x16.shuffle ${SWAP_HI} ${r2} ${r3}))`,
    store(0, `(i8x16.shuffle ${PAIR_LO} (local.get $s0) (local.get $s2))`),
    store(1, `(i8x16.shuffle ${PAIR_HI} (local.get $s0) (local.get $s2))`),
    store(2, `(i8x16.shuffle ${PAIR_LO} (local.get $s1) (local.get $s3))`),
    store(3, `(i8x16.shuffle ${PAIR_HI} (local.get $s1) (local.get $s3))`),
  ];
}

/** Loads 4 message words of each lane from p_j + $off + offset into WS[first..first+3]. */
function loadWords(offset: number, first: number): string[] {
  const rows = [0, 1, 2, 3].map(
    (j) => `(v128.load offset=${offset} align=1 (i32.add (local.get $p${j}) (local.get $off)))`,
  );
  return transpose(
    rows,
    (q, value) => `(v128.store offset=${WS + 16 * (first + q)} (i32.const 0) ${value})`,
  );
}

function hashFunction(): string {
  const maskFirst = `(v128.store offset=${WS} (i32.const 0) (v128.or (v128.and (v128.load offset=${WS} (i32.const 0)) ${splat(0x00ffffff)}) (local.get $pre)))`;
  const zero = (from: number, to: number): string[] =>
    Array.from(
      { length: to - from },
      (_, i) => `(v128.store offset=${WS + 16 * (from + i)} (i32.const 0) ${splat(0)})`,
    );
  const lastByte = [0, 1, 2, 3].reduce(
    (acc, j) =>
      j === 0
        ? `(i32x4.splat (i32.load8_u (i32.add (local.get $p0) (local.get $off))))`
        : `(i32x4.replace_lane ${j} ${acc} (i32.load8_u (i32.add (local.get $p${j}) (local.get $off))))`,
    '',
  );
  const ind = (lines: string[], n: number): string =>
    lines.map((l) => ' '.repeat(n) + l).join('\n');
  const storeState =
    (base: number): ((q: number, value: string) => string) =>
    (q, value) =>
      `(v128.store offset=${base} align=1 (i32.add (local.get $dst) (i32.const ${32 * q})) ${value})`;
  const stateRow = (i: number): string => `(v128.load offset=${ST + 16 * i} (i32.const 0))`;
  return `
  ;; hash(in, len, count, out, prefix): for i in 0..count-1 (rounded up to a multiple of 4; the
  ;; extra lanes read and write past the end, so callers leave 3*len + 1 bytes of input slack
  ;; and 96 bytes of output slack): out[32i..] = SHA256(prefix || in[i*len .. (i+1)*len]).
  ;; len is a power of two >= 32; in >= 1 (the first block is read from one byte before a
  ;; message, whose top byte is replaced by the prefix). out may equal in (level-by-level
  ;; reduction in place): a group reads all its input before it writes its 128 output bytes.
  (func (export "hash") (param $in i32) (param $len i32) (param $count i32) (param $out i32) (param $prefix i32)
    (local $g i32) (local $groups i32) (local $b i32) (local $nb i32) (local $off i32) (local $dst i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $pre v128)
    (local.set $groups (i32.shr_u (i32.add (local.get $count) (i32.const 3)) (i32.const 2)))
    (local.set $nb (i32.shr_u (local.get $len) (i32.const 6)))
    (local.set $pre (i32x4.splat (i32.shl (local.get $prefix) (i32.const 24))))
    (block $done
      (loop $group
        (br_if $done (i32.ge_u (local.get $g) (local.get $groups)))
        (local.set $p0 (i32.add (local.get $in) (i32.mul (local.get $g) (i32.shl (local.get $len) (i32.const 2)))))
        (local.set $p1 (i32.add (local.get $p0) (local.get $len)))
        (local.set $p2 (i32.add (local.get $p1) (local.get $len)))
        (local.set $p3 (i32.add (local.get $p2) (local.get $len)))
${ind(
  IV.map((x, i) => `(v128.store offset=${ST + 16 * i} (i32.const 0) ${splat(x)})`),
  8,
)}
        ;; full blocks: message bytes [64b, 64b+64) = data[64b-1 .. 64b+63)
        (local.set $b (i32.const 0))
        (block $blocksDone
          (loop $blocks
            (br_if $blocksDone (i32.ge_u (local.get $b) (local.get $nb)))
            (local.set $off (i32.sub (i32.shl (local.get $b) (i32.const 6)) (i32.const 1)))
${ind([...loadWords(0, 0), ...loadWords(16, 4), ...loadWords(32, 8), ...loadWords(48, 12)], 12)}
            (if (i32.eqz (local.get $b)) (then ${maskFirst}))
            (call $compress)
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $blocks)))
        ;; final block: the remaining message bytes (1, or 33 when len = 32), 0x80, length
        (local.set $off (i32.sub (local.get $len) (i32.const 1)))
        (if (i32.eq (local.get $len) (i32.const 32))
          (then
            (v128.store offset=${WS + 16 * 8} (i32.const 0)
              (v128.or (i32x4.shl ${lastByte} (i32.const 24)) ${splat(0x800000)}))
            (local.set $off (i32.const -1))
${ind([...loadWords(0, 0), ...loadWords(16, 4), maskFirst, ...zero(9, 15)], 12)}
            (v128.store offset=${WS + 16 * 15} (i32.const 0) ${splat(33 * 8)}))
          (else
            (v128.store offset=${WS} (i32.const 0)
              (v128.or (i32x4.shl ${lastByte} (i32.const 24)) ${splat(0x800000)}))
${ind(zero(1, 15), 12)}
            (v128.store offset=${WS + 16 * 15} (i32.const 0)
              (i32x4.splat (i32.shl (i32.add (local.get $len) (i32.const 1)) (i32.const 3))))))
        (call $compress)
        (local.set $dst (i32.add (local.get $out) (i32.shl (local.get $g) (i32.const 7))))
${ind(transpose([0, 1, 2, 3].map(stateRow), storeState(0)), 8)}
${ind(transpose([4, 5, 6, 7].map(stateRow), storeState(16)), 8)}
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $group))))`;
}

const wat = `;; Generated by packages/codec/scripts/gen-sha256-wat.ts. Do not edit.
;; 4-lane SHA-256 of prefixed fixed-length messages, for Merkle leaves and nodes.
(module
  (memory (export "memory") 36)
${compress()}
${hashFunction()}
)
`;

export function generate(): string {
  return wat;
}

export const watPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'src',
  'merkle',
  'sha256-simd.wat',
);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(watPath, wat);
  console.log(`wrote ${watPath}`);
}
