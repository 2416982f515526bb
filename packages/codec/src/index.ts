/**
 * @packageDocumentation
 *
 * `@cairn/codec`: the pure, isomorphic data plane of Cairn. A file becomes n = k + m shards:
 *
 * ```ts
 * import { encodeFile, sealManifest, FileDecoder } from '@cairn/codec';
 *
 * const encoding = encodeFile(file.stream(), { name: file.name, mimeType: file.type });
 * for await (const { index, pieces } of encoding) {
 *   pieces.forEach((piece, shard) => sendToHost(shard, index, piece));
 * }
 * const sealed = await sealManifest(encoding.manifest(), encoding.fileKey);
 * ```
 *
 * Everything here uses only Uint8Array, WebCrypto and WebAssembly, so it runs unchanged in
 * browsers, workers and Node.
 */
export * from './errors.ts';
export * from './bytes.ts';
export * from './constants.ts';
export * from './padding.ts';
export * from './layout.ts';
export * from './segmenter.ts';
export * from './encoder.ts';
export * from './decoder.ts';
export * from './crypto/index.ts';
export * from './erasure/index.ts';
export * from './merkle/index.ts';
export * from './manifest/index.ts';
export * from './rebuild.ts';
