/** Host announcements travel on this protocol: a host sends its own signed record to a relay. */
export const ANNOUNCE_PROTOCOL = '/cairn/directory/announce/1.0.0';

/** Clients ask a relay's directory for hosts on this protocol. */
export const QUERY_PROTOCOL = '/cairn/directory/query/1.0.0';

/** Relays share announcements with each other on this gossipsub topic. */
export const DIRECTORY_TOPIC = 'cairn/directory/v1';

/** Encoded signed record (body, signature, framing) may not exceed this many bytes. */
export const MAX_ANNOUNCEMENT_SIZE = 4096;

/** A record lists at most this many multiaddrs; each is at most MAX_MULTIADDR_SIZE bytes. */
export const MAX_MULTIADDRS = 16;
export const MAX_MULTIADDR_SIZE = 256;

/** Capacity and price are unsigned integers of at most 256 bits (EVM uint256). */
export const MAX_UINT256 = (1n << 256n) - 1n;

/** A record may claim to be issued at most this far in the future (clock skew between peers). */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** A record may live at most this long (expiresAt - issuedAt); hosts re-announce well before. */
export const MAX_ANNOUNCEMENT_LIFETIME_MS = 24 * 60 * 60_000;

/** Default lifetime of a record made by `signAnnouncement`. */
export const DEFAULT_ANNOUNCEMENT_TTL_MS = 60 * 60_000;

/** A query returns at most this many records (and one record per frame). */
export const MAX_QUERY_LIMIT = 100;
export const DEFAULT_QUERY_LIMIT = 20;

/** A query may exclude at most this many peers. */
export const MAX_QUERY_EXCLUDE = 256;

/** Largest query request frame: the exclude list dominates (peer ids are ~52 bytes as text). */
export const MAX_QUERY_REQUEST_SIZE = 32 * 1024;

/** Largest announce response frame: a status byte and a short reason. */
export const MAX_ANNOUNCE_RESPONSE_SIZE = 1024;

/** Every directory stream is abandoned after this long unless the caller gave its own signal. */
export const DEFAULT_STREAM_TIMEOUT_MS = 10_000;

/** A directory keeps at most this many hosts unless configured otherwise. */
export const DEFAULT_MAX_DIRECTORY_ENTRIES = 10_000;

/** Signatures cover this prefix and the body, so a Cairn record cannot be replayed as another signed message. */
export const ANNOUNCEMENT_SIGNATURE_DOMAIN = 'cairn/host-announcement/v1';

/**
 * First byte of every encoded record body: the record format version. Version 2 (what
 * `signAnnouncement` writes) adds storage durability and uptime; version 1 records still decode.
 */
export const ANNOUNCEMENT_VERSION = 2;

/** The oldest record format still accepted. */
export const MIN_ANNOUNCEMENT_VERSION = 1;

/** Bit of a version 2 record's flags byte: the host's storage survives restarts. */
export const ANNOUNCEMENT_FLAG_PERSISTENT = 1;

/** Relays share their audit evidence about hosts on this protocol (see `queryScores`). */
export const SCORES_PROTOCOL = '/cairn/directory/scores/1.0.0';

/** A scores request names at most this many hosts; the answer has at most one entry per host. */
export const MAX_SCORES_PEERS = 100;

/** Largest scores request and answer frames (100 peer ids of at most 128 bytes, plus counters). */
export const MAX_SCORES_REQUEST_SIZE = 32 * 1024;
export const MAX_SCORES_RESPONSE_SIZE = 32 * 1024;

/** Evidence counts travel in thousandths and may not exceed this many observations. */
export const MAX_EVIDENCE_COUNT = 1_000_000;

/** A latency in shared evidence is at most this many milliseconds. */
export const MAX_EVIDENCE_LATENCY_MS = 10 * 60_000;
