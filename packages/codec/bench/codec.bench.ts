/**
 * Codec benchmarks, the same code in Node and in a Chromium worker. Baseline: WebCrypto
 * AES-256-GCM alone over the same segment size (`codec.baseline.aes-gcm`); every other line is
 * given as a ratio to it.
 */
import { DEFAULT_K, DEFAULT_M, DEFAULT_PIECE_SIZE } from '../src/constants.ts';
import { SegmentCipher } from '../src/crypto/index.ts';
import { SegmentEncoder } from '../src/encoder.ts';
import { ReedSolomon, type ErasureKernel } from '../src/erasure/index.ts';
import { segmentSizeFor } from '../src/layout.ts';
import { MerkleBuilder, MERKLE_LEAF_SIZE } from '../src/merkle/index.ts';
import { simdSupported } from '../src/wasm.ts';
import { pseudoRandomBytes, throughput, wanted, type BenchContext } from './harness.ts';

const SEGMENTS = 8;

export async function runCodecBenches(ctx: BenchContext): Promise<void> {
  const segmentSize = segmentSizeFor(DEFAULT_K, DEFAULT_PIECE_SIZE);
  const segments = Array.from({ length: SEGMENTS }, (_, i) =>
    pseudoRandomBytes(segmentSize, i + 1),
  );
  const totalBytes = segmentSize * SEGMENTS;
  const key = pseudoRandomBytes(32, 99);
  const fileId = pseudoRandomBytes(16, 98);

  // Baseline: WebCrypto AES-256-GCM alone, same segments (always measured: every ratio needs it).
  const cipher = await SegmentCipher.create(key, fileId);
  const baseline = await throughput(totalBytes, async () => {
    for (let i = 0; i < SEGMENTS; i++) await cipher.encrypt(i, false, segments[i]!);
  });
  const report = (bench: string, value: number, note?: string, unit = 'MB/s') =>
    ctx.report({
      bench,
      env: ctx.env,
      value,
      unit,
      baseline,
      ratio: value / baseline,
      ...(note ? { note } : {}),
    });
  if (wanted(ctx, 'codec.baseline.aes-gcm'))
    report(
      'codec.baseline.aes-gcm',
      baseline,
      `${(segmentSize / 2 ** 20).toFixed(1)} MiB segments`,
    );

  const kernels: ErasureKernel[] = simdSupported() ? ['simd', 'js'] : ['js'];
  for (const [k, m] of [
    [4, 4],
    [10, 4],
    [29, 51],
  ] as const) {
    for (const kernel of kernels) {
      const suffix = `${k}-${m}${kernel === 'js' ? '.js' : ''}`;
      const pieceLength = 256 * 1024;
      const rs = new ReedSolomon(k, m, { kernel });
      const data = Array.from({ length: k }, (_, i) => pseudoRandomBytes(pieceLength, i + 7));
      const parity = Array.from({ length: m }, () => new Uint8Array(pieceLength));
      const dataBytes = k * pieceLength;
      if (wanted(ctx, `codec.rs.encode.${suffix}`)) {
        report(
          `codec.rs.encode.${suffix}`,
          await throughput(dataBytes, () => rs.encodeInto(data, parity), { seconds: 1 }),
          `${kernel} kernel, MB/s of data`,
        );
      }
      if (wanted(ctx, `codec.rs.decode.${suffix}`)) {
        // Worst case: the first min(m, k) data pieces are lost and rebuilt from parity.
        const lost = Math.min(m, k);
        const pieces: (Uint8Array | null)[] = [...data, ...parity];
        for (let j = 0; j < lost; j++) pieces[j] = null;
        const wantedPieces = [...Array(lost).keys()];
        // Into reused buffers, as the decoder does.
        const rebuilt = wantedPieces.map(() => new Uint8Array(pieceLength));
        report(
          `codec.rs.decode.${suffix}`,
          await throughput(dataBytes, () => rs.reconstructInto(pieces, wantedPieces, rebuilt), {
            seconds: 1,
          }),
          `${kernel} kernel, ${lost} data pieces rebuilt`,
        );
      }
    }
  }

  if (wanted(ctx, 'codec.merkle')) {
    const shard = pseudoRandomBytes(8 * 2 ** 20, 5);
    const mbps = await throughput(shard.length, () => {
      const b = new MerkleBuilder(MERKLE_LEAF_SIZE);
      for (let o = 0; o < shard.length; o += DEFAULT_PIECE_SIZE)
        b.append(shard.subarray(o, o + DEFAULT_PIECE_SIZE));
      return b.finish();
    });
    report('codec.merkle', mbps, `${MERKLE_LEAF_SIZE}-byte leaves, MB/s of shard bytes`);
  }

  if (wanted(ctx, 'codec.pipeline')) {
    const mbps = await throughput(totalBytes, async () => {
      const encoder = await SegmentEncoder.create({
        k: DEFAULT_K,
        m: DEFAULT_M,
        pieceSize: DEFAULT_PIECE_SIZE,
        leafSize: MERKLE_LEAF_SIZE,
        fileKey: key,
        fileId,
      });
      for (let i = 0; i < SEGMENTS; i++) await encoder.encode(i, i === SEGMENTS - 1, segments[i]!);
      await encoder.finish();
    });
    report(
      'codec.pipeline',
      mbps,
      `(${DEFAULT_K},${DEFAULT_M}) encrypt+erasure+merkle, MB/s of file bytes`,
    );
  }
}
