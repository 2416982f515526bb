export {
  HKDF_INFO,
  HKDF_MAX_LENGTH,
  deriveAesGcmKey,
  deriveBytes,
  importAesGcmKey,
  type HkdfInfo,
} from './hkdf.ts';
export * from './stream.ts';
export * from './keys.ts';
export * from './share-link.ts';
