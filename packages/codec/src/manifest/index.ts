export * from './manifest.ts';
export { ByteReader, ByteWriter, isWellFormedString, varintLength } from './encoding.ts';
