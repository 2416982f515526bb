/**
 * @packageDocumentation
 *
 * `@cairn/drive`: the public facade of Cairn. Upload a file to hosts and download it back,
 * over any `ShardTransport` (the peer package provides the libp2p one); audit hosts off chain
 * and rank them by price and score.
 */
export * from './errors.ts';
export * from './types.ts';
export * from './select.ts';
export * from './scores.ts';
export * from './auditor.ts';
export * from './upload.ts';
export * from './download.ts';
export { Channel } from './channel.ts';
export * from './record.ts';
export * from './network.ts';
export * from './share.ts';
export * from './deals.ts';
export * from './health.ts';
export * from './repair.ts';
export * from './redundancy.ts';
export * from './follow.ts';
export * from './keeper.ts';
export * from './mediator.ts';
export * from './delegation.ts';
