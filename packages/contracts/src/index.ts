/**
 * @cairn/contracts: Cairn's token and storage market. Compiled ABIs (`as const`, viem's shape),
 * the deployment config type, EIP-712 payloads (quotes, permits) and one action per contract call
 * over a small JSON-RPC client. Isomorphic; Node-only tooling (anvil, compile, deploy) is in
 * `@cairn/contracts/node`.
 *
 * @example
 * ```ts
 * import { ChainClient, challengeFor, currentPeriod, submitProof } from '@cairn/contracts';
 * const chain = new ChainClient({ rpcUrl: config.rpcUrl });
 * const period = await currentPeriod(chain, config);
 * const c = await challengeFor(chain, config, dealId, period);
 * if (c.challenged) await submitProof(chain, config, host, dealId, leaf(c.leafIndex), proof(c.leafIndex));
 * ```
 */
export * from './abi.ts';
export * from './client.ts';
export * from './config.ts';
export * from './errors.ts';
export * from './market.ts';
export * from './typed-data.ts';
export * from './generated/abis.ts';
