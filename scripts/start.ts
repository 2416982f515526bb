// `npm start`: runs Cairn locally. For now: serves the built app and runs a codec demo (a file
// encrypted, erasure-coded into shards, shards lost, the file rebuilt and checked). It grows into
// the whole local network (chain, relay, hosts) with the next issues.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  concatBytes,
  encodeFile,
  encodeShareLink,
  equalBytes,
  FileDecoder,
  layoutOfManifest,
  MerkleTree,
  pieceLength,
  pieceOffset,
  sealManifest,
} from '@cairn/codec';

const root = fileURLToPath(new URL('..', import.meta.url));
const buildDir = join(root, 'build');
const port = Number(process.env.PORT ?? 5173);
const host = process.env.HOST ?? '127.0.0.1';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
};

const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
  let file = join(buildDir, path);
  if (!file.startsWith(buildDir)) return void res.writeHead(400).end();
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  if (!existsSync(file)) file = join(buildDir, '200.html');
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
server.listen(port, host, () => console.log(`Cairn app: http://${host}:${port}/`));

// The codec demo.
const size = 24 * 2 ** 20 + 12345;
const original = new Uint8Array(size);
for (let i = 0; i < size; i += 65536)
  crypto.getRandomValues(original.subarray(i, Math.min(size, i + 65536)));
const t0 = performance.now();
const encoding = encodeFile([original], { name: 'demo.bin', mimeType: 'application/octet-stream' });
const shardParts: Uint8Array[][] = [];
for await (const segment of encoding) {
  segment.pieces.forEach((piece, j) => (shardParts[j] ??= []).push(piece));
}
const manifest = encoding.manifest();
const sealed = await sealManifest(manifest, encoding.fileKey);
const encodeMs = performance.now() - t0;
const shards = shardParts.map((parts) => concatBytes(...parts));
const layout = layoutOfManifest(manifest);
const trees = shards.map((s) => MerkleTree.build(s, layout.leafSize));

// Lose m shards at random: any k of n are enough.
const lost = new Set<number>();
while (lost.size < manifest.m) lost.add(Math.floor(Math.random() * layout.n));
const t1 = performance.now();
const decoder = await FileDecoder.open(sealed, encoding.fileKey);
const out: Uint8Array[] = [];
for await (const chunk of decoder.decode(async ({ segment, shard }) => {
  if (lost.has(shard)) return null;
  const offset = pieceOffset(layout, segment);
  const length = pieceLength(layout, segment);
  return {
    piece: shards[shard]!.subarray(offset, offset + length),
    proof: trees[shard]!.subtreeProof(layout.pieceHeight, segment),
  };
})) {
  out.push(chunk);
}
const decodeMs = performance.now() - t1;
const ok = equalBytes(concatBytes(...out), original);
console.log(
  [
    `codec demo: ${(size / 2 ** 20).toFixed(1)} MiB -> ${layout.n} shards of ${(layout.shardSize / 2 ** 20).toFixed(2)} MiB ` +
      `(k=${manifest.k}, m=${manifest.m}, ${layout.segmentCount} segments) in ${encodeMs.toFixed(0)} ms`,
    `lost shards ${[...lost].sort((a, b) => a - b).join(', ')}; rebuilt from the other ${layout.n - lost.size} in ${decodeMs.toFixed(0)} ms: ${ok ? 'identical bytes' : 'MISMATCH'}`,
    `share link fragment (key stays on this machine): #${encodeShareLink({ manifestRef: manifest.fileId, fileKey: encoding.fileKey })}`,
    'Ctrl-C to stop.',
  ].join('\n'),
);
if (!ok) process.exitCode = 1;
process.on('SIGINT', () => server.close(() => process.exit(process.exitCode ?? 0)));
process.on('SIGTERM', () => server.close(() => process.exit(process.exitCode ?? 0)));
