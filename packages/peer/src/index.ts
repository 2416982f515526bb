/**
 * @packageDocumentation
 *
 * `@cairn/peer`: Cairn's libp2p node (browsers and Node) and its stream protocols.
 *
 * @example
 * ```ts
 * import { createCairnNode, HostService, putShard, getPiece, audit } from '@cairn/peer';
 * import { MemoryShardStore } from '@cairn/store';
 *
 * const host = await createCairnNode({ relays: [relayAddr] });
 * const service = new HostService(host, { store: new MemoryShardStore({ quota: 2 ** 30 }), privateKey: host.privateKey });
 * await service.start();
 *
 * const client = await createCairnNode({ relays: [relayAddr] });
 * const receipt = await putShard(client, hostWebRTCAddr, shardBytes, { root, size: shardBytes.length });
 * const piece = await getPiece(client, hostWebRTCAddr, { root, shardSize, index: 0, pieceSize: 256 * 1024 });
 * await audit(client, hostWebRTCAddr, { root, size: shardSize });
 * ```
 */
export * from './constants.ts';
export * from './errors.ts';
export { createCairnNode, toMultiaddr } from './node.ts';
export type { CairnNode, CairnNodeInit } from './node.ts';
export { isWebRTCAddress, isCircuitAddress, peerIdText } from './addresses.ts';
export type { DialQueueInit } from './dial-queue.ts';
export { HostService, TREE_META, treeIdOf, treeSidecarSize } from './host.ts';
export type { HostNode, HostServiceInit, PeerTraffic, PutAdmission } from './host.ts';
export { putShard, getRange, getPiece, audit, requestQuote } from './client.ts';
export { startHosting } from './hosting.ts';
export type { Hosting, HostingInit } from './hosting.ts';
export type {
  AuditParameters,
  AuditResult,
  ClientOptions,
  GetPieceParameters,
  GetRangeParameters,
  Piece,
  PeerTarget,
  PutShardOptions,
  ShardRoot,
  ShardSource,
  StreamOpener,
} from './client.ts';
export { verifyReceipt } from './signatures.ts';
export type { Receipt } from './signatures.ts';
export { encodeSignedReceipt, decodeSignedReceipt } from './wire.ts';
export type { SignedReceipt, ReceiptBody } from './wire.ts';
