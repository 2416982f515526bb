/**
 * One error class per condition, each with a literal `name` (compare `err.name`, which survives
 * realms and workers). Remote hosts answer with a code; `remoteError` turns it into a class here.
 */
import {
  MalformedMessageError,
  MessageTooLargeError,
  UnexpectedEndOfStreamError,
} from './directory/errors.ts';

// The framing errors are shared with the directory protocols (same classes, one name each).
export { MalformedMessageError, MessageTooLargeError, UnexpectedEndOfStreamError };

/** Wire error codes (ErrorCode in README). */
export const ERROR_CODES = {
  UNKNOWN: 0,
  NOT_FOUND: 1,
  QUOTA: 2,
  BAD_ROOT: 3,
  TOO_LARGE: 4,
  MALFORMED: 5,
  INTERNAL: 6,
  TIMEOUT: 7,
  REFUSED: 8,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export function _codeName(value: number): ErrorCode {
  const entry = Object.entries(ERROR_CODES).find(([, v]) => v === value);
  return (entry?.[0] as ErrorCode | undefined) ?? 'UNKNOWN';
}

/** The host has no shard with that root. */
export class ShardNotFoundError extends Error {
  static override readonly name = 'ShardNotFoundError';
  override readonly name = 'ShardNotFoundError';
}

/** The host refused a put because it would exceed its quota. */
export class QuotaExceededError extends Error {
  static override readonly name = 'QuotaExceededError';
  override readonly name = 'QuotaExceededError';
}

/** The bytes sent do not hash to the root they were announced with; nothing was stored. */
export class BadRootError extends Error {
  static override readonly name = 'BadRootError';
  override readonly name = 'BadRootError';
}

/** The host failed on its side (store error, say). */
export class HostInternalError extends Error {
  static override readonly name = 'HostInternalError';
  override readonly name = 'HostInternalError';
}

/** The host answered with a code this version does not know. */
export class RemoteProtocolError extends Error {
  static override readonly name = 'RemoteProtocolError';
  override readonly name = 'RemoteProtocolError';
}

/** A wait ran past its deadline (the whole operation, or the peer went quiet). */
export class TimeoutError extends Error {
  static override readonly name = 'TimeoutError';
  override readonly name = 'TimeoutError';
}

/** The caller's signal aborted the operation. */
export class AbortError extends Error {
  static override readonly name = 'AbortError';
  override readonly name = 'AbortError';
}

/** Bytes or a proof from a host do not verify against the root the client knows. */
export class IntegrityError extends Error {
  static override readonly name = 'IntegrityError';
  override readonly name = 'IntegrityError';
}

/** A receipt or audit signature does not verify against the host's key, or its fields differ. */
export class InvalidReceiptError extends Error {
  static override readonly name = 'InvalidReceiptError';
  override readonly name = 'InvalidReceiptError';
}

/** The host's answer to an audit does not prove possession (wrong leaf, bad proof, bad signature). */
export class AuditFailedError extends Error {
  static override readonly name = 'AuditFailedError';
  override readonly name = 'AuditFailedError';
}

/**
 * The host will not take this put or give this quote: e.g. no funded deal names it and this root
 * (a host stores only what it is paid for), or it does not sell storage on these terms.
 */
export class PutRefusedError extends Error {
  static override readonly name = 'PutRefusedError';
  override readonly name = 'PutRefusedError';
}

/** The error a client raises for a code a host answered with. */
export function remoteError(code: number, message: string): Error {
  const text = `host: ${message}`;
  switch (_codeName(code)) {
    case 'NOT_FOUND':
      return new ShardNotFoundError(text);
    case 'QUOTA':
      return new QuotaExceededError(text);
    case 'BAD_ROOT':
      return new BadRootError(text);
    case 'TOO_LARGE':
      return new MessageTooLargeError(text);
    case 'MALFORMED':
      return new MalformedMessageError(text);
    case 'INTERNAL':
      return new HostInternalError(text);
    case 'TIMEOUT':
      return new TimeoutError(text);
    case 'REFUSED':
      return new PutRefusedError(text);
    default:
      return new RemoteProtocolError(`${text} (code ${code})`);
  }
}

/** The code a host answers with for an error raised while serving. */
export function errorCodeOf(err: unknown): ErrorCode {
  const name = err instanceof Error ? err.name : '';
  switch (name) {
    case 'ShardNotFoundError':
      return 'NOT_FOUND';
    case 'QuotaExceededError':
      return 'QUOTA';
    case 'BadRootError':
      return 'BAD_ROOT';
    case 'MessageTooLargeError':
      return 'TOO_LARGE';
    case 'MalformedMessageError':
    case 'UnexpectedEndOfStreamError':
      return 'MALFORMED';
    case 'TimeoutError':
      return 'TIMEOUT';
    case 'PutRefusedError':
      return 'REFUSED';
    default:
      return 'INTERNAL';
  }
}
