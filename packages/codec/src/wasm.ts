/** Loading the codec's WebAssembly kernels (embedded as base64; see scripts/build-wasm.ts). */

export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Compiles and instantiates a small module synchronously. Our kernels are a few KiB, well under
 * the size browsers allow for synchronous compilation on the main thread.
 */
export function instantiateSync(
  bytes: Uint8Array<ArrayBuffer>,
  imports: WebAssembly.Imports = {},
): WebAssembly.Instance {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
}

// The smallest module that uses a SIMD128 instruction: (func (result v128) (v128.const i32x4 0 0 0 0))
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

let simd: boolean | undefined;
/** True when this engine validates WebAssembly SIMD128 code. */
export function simdSupported(): boolean {
  if (simd === undefined) {
    try {
      simd = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
    } catch {
      simd = false;
    }
  }
  return simd;
}
