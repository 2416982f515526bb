/**
 * @cairn/contracts: Cairn's token and storage market over viem. Compiled ABIs (`as const`), the
 * deployment config, viem clients for a deployment (`createChainReader`, `createChainSigner`),
 * wallets (EIP-6963 injected wallets, the recovery-phrase account), EIP-712 payloads (quotes,
 * permits), one action per contract call, and typed errors. Isomorphic; Node-only tooling
 * (anvil, compile, deploy, key files) is in `@cairn/contracts/node`.
 *
 * @example
 * ```ts
 * import { accountFromRecoveryPhrase, challengeFor, createChainSigner, currentPeriod, submitProof } from '@cairn/contracts';
 * const host = createChainSigner(config, accountFromRecoveryPhrase(phrase));
 * const period = await currentPeriod(host);
 * const c = await challengeFor(host, dealId, period);
 * if (c.challenged) await submitProof(host, dealId, leaf(c.leafIndex), proof(c.leafIndex));
 * ```
 */
export * from './chain.ts';
export * from './config.ts';
export * from './errors.ts';
export * from './market.ts';
export * from './typed-data.ts';
export * from './wallet.ts';
export * from './generated/abis.ts';
