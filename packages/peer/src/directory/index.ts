/**
 * @packageDocumentation
 *
 * The host directory: hosts sign a `HostAnnouncement` (capacity, price, wallet, addresses,
 * storage durability, uptime) with their libp2p key and send it to relays on
 * `/cairn/directory/announce/1.0.0`; clients ask a relay for hosts on
 * `/cairn/directory/query/1.0.0`. Records are verified on every hop, so a relay can drop or
 * withhold records but cannot forge or alter them. Relays that audit hosts share what they
 * observed on `/cairn/directory/scores/1.0.0` (`queryScores`): their own, unsigned, opinion.
 *
 * @example
 * ```ts
 * const record = await signAnnouncement(privateKey, {
 *   multiaddrs, freeCapacity: 5n * 2n ** 30n, price: '1000', wallet: '0xabc...',
 * })
 * await announce(hostNode, relayAddr, record)
 * const hosts = await queryHosts(clientNode, relayAddr, { minFreeCapacity: 2n ** 30n, limit: 10 })
 * ```
 */
export * from './constants.ts';
export * from './errors.ts';
export {
  signAnnouncement,
  encodeAnnouncement,
  decodeAnnouncement,
  verifyAnnouncement,
} from './announcement.ts';
export type {
  HostAnnouncement,
  SignedHostAnnouncement,
  SignAnnouncementParameters,
  VerifyAnnouncementOptions,
  WalletAddress,
} from './announcement.ts';
export { Directory } from './directory.ts';
export type { DirectoryInit, HostFilter, PutResult } from './directory.ts';
export { handleDirectoryProtocols, announce, queryHosts } from './protocol.ts';
export { handleScoresProtocol, queryScores } from './scores.ts';
export type { EvidenceSource, HostEvidence, ScoresProtocolInit } from './scores.ts';
export type {
  AnnounceResponse,
  DirectoryClientNode,
  DirectoryClientOptions,
  DirectoryPeer,
  DirectoryProtocolInit,
  DirectoryProtocols,
  DirectoryServerNode,
  QueryHostsOptions,
} from './protocol.ts';
// The length-prefixed framing and canonical encoding, for other Cairn protocols built on them
// (e.g. @cairn/drive's mediator delegation). Internal API: names start with an underscore.
export { _FrameReader, _writeFrame, _withStream } from './frames.ts';
export { _Reader, _Writer } from './encoding.ts';
