/**
 * @cairn/earn: the chain-side loops of earning, isomorphic (browser tab, PWA, headless Node).
 *
 * - `HostDaemon`: follows the deals naming this host, answers every period's challenge with a
 *   leaf and its Merkle path from the host's store, claims and withdraws what the deals earn.
 * - `Watcher`: follows every live deal and reports missed proofs once their window has closed,
 *   collecting the reporter's share of the slash.
 *
 * @example
 * ```ts
 * import { HostDaemon, LocalStorageState } from '@cairn/earn';
 * const daemon = new HostDaemon({
 *   reader, signer, config,
 *   prove: (root, index) => hostService.proveLeaf(root, index),
 *   state: new LocalStorageState(),
 *   onEvent: (e) => console.log(e.type, e),
 * });
 * await daemon.start();
 * ```
 */
export * from './host.ts';
export * from './watcher.ts';
export * from './state.ts';
export type { DealInfo, LoopOptions } from './loop.ts';
export {
  StoppedError,
  TimeoutError,
  describeError,
  isRetryable,
  type RetryOptions,
} from './util.ts';
export * from './paid-host.ts';
