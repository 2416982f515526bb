/** The bytes are not a well-formed, canonically encoded message or record. */
export class MalformedMessageError extends Error {
  static override readonly name = 'MalformedMessageError';
  override readonly name = 'MalformedMessageError';
}

/** A record or frame is larger than the protocol allows. */
export class MessageTooLargeError extends Error {
  static override readonly name = 'MessageTooLargeError';
  override readonly name = 'MessageTooLargeError';
}

/** A field of a record is out of range (too many multiaddrs, bad wallet, capacity over uint256...). */
export class InvalidAnnouncementError extends Error {
  static override readonly name = 'InvalidAnnouncementError';
  override readonly name = 'InvalidAnnouncementError';
}

/** The signature does not verify against the public key in the record's peer id. */
export class InvalidSignatureError extends Error {
  static override readonly name = 'InvalidSignatureError';
  override readonly name = 'InvalidSignatureError';
}

/** The record's expiresAt has passed. */
export class AnnouncementExpiredError extends Error {
  static override readonly name = 'AnnouncementExpiredError';
  override readonly name = 'AnnouncementExpiredError';
}

/** The record was issued too far in the future, or claims to live longer than allowed. */
export class AnnouncementFromFutureError extends Error {
  static override readonly name = 'AnnouncementFromFutureError';
  override readonly name = 'AnnouncementFromFutureError';
}

/** The peer that sent a record over the announce protocol is not the peer the record describes. */
export class NotOwnAnnouncementError extends Error {
  static override readonly name = 'NotOwnAnnouncementError';
  override readonly name = 'NotOwnAnnouncementError';
}

/** The directory on the other side refused an announcement; `message` carries its reason. */
export class AnnouncementRejectedError extends Error {
  static override readonly name = 'AnnouncementRejectedError';
  override readonly name = 'AnnouncementRejectedError';
}

/** The stream ended before a whole frame arrived. */
export class UnexpectedEndOfStreamError extends Error {
  static override readonly name = 'UnexpectedEndOfStreamError';
  override readonly name = 'UnexpectedEndOfStreamError';
}
