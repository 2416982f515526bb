/**
 * One line per failure, naming the cause in the user's terms. The commands throw whatever the
 * packages throw; this is the only place that turns it into words.
 */
import { CliError, UsageError } from './args.ts';

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  path?: string;
  cause?: unknown;
  errors?: unknown[];
  /** viem's HttpRequestError */
  url?: string;
  details?: string;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

/** The innermost useful cause of an AggregateError or a wrapped error, for context. */
function rootCause(err: ErrorLike): ErrorLike | undefined {
  const inner = err.errors?.find((e) => e != null) ?? err.cause;
  if (inner == null || typeof inner !== 'object') return undefined;
  return rootCause(inner as ErrorLike) ?? (inner as ErrorLike);
}

function withCause(message: string, err: ErrorLike): string {
  const root = rootCause(err);
  const text = root?.message != null && root.message !== '' ? firstLine(root.message) : '';
  return text !== '' && !message.includes(text) ? `${message} (${text})` : message;
}

const SYSTEM: Record<string, string> = {
  ENOENT: 'file not found',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  EEXIST: 'already exists',
  EADDRINUSE: 'address already in use',
  ECONNREFUSED: 'connection refused',
};

/** The first error in `error`'s tree (itself, its causes, aggregated errors) that `test` accepts. */
export function findError(
  error: unknown,
  test: (e: ErrorLike) => boolean,
  depth = 0,
): ErrorLike | undefined {
  if (error == null || typeof error !== 'object' || depth > 8) return undefined;
  const err = error as ErrorLike;
  if (test(err)) return err;
  for (const inner of [...(err.errors ?? []), err.cause]) {
    const found = findError(inner, test, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** A one-line message naming the cause of `error`. */
export function describeError(error: unknown): string {
  if (error == null || typeof error !== 'object') return String(error);
  const err = error as ErrorLike;
  const message = firstLine(err.message ?? '');
  if (err instanceof UsageError || err instanceof CliError) return message;
  if (err.code != null && SYSTEM[err.code] != null) {
    const where = err.path != null ? `: ${err.path}` : '';
    return `${SYSTEM[err.code]}${where} (${err.code})`;
  }
  switch (err.name) {
    case 'InvalidShareLinkError':
    case 'InvalidRecordError':
      return /^invalid (share )?link/i.test(message) ? message : `invalid link: ${message}`;
    case 'WrongKeyError':
      return `wrong key: the link's key does not open this file (${message})`;
    case 'RecordUnavailableError':
      return withCause(`file record unavailable: ${message}; its hosts may be offline`, err);
    case 'DirectoryUnavailableError':
      return withCause(`relay unreachable: ${message}`, err);
    case 'NotEnoughHostsError':
      return `not enough hosts: ${message}`;
    case 'UploadFailedError':
    case 'PublishFailedError':
      return withCause(`upload failed: ${message}`, err);
    case 'NotEnoughPiecesError':
      return withCause(`download failed: not enough hosts served the file: ${message}`, err);
    case 'IntegrityError':
      return `download failed: data did not verify: ${message}`;
    case 'SourceChangedError':
      return `the file changed while it was being uploaded: ${message}`;
    case 'QuotaExceededError':
      return `no room: ${message}`;
    case 'InvalidRecoveryPhraseError':
      return `invalid recovery phrase: ${message}`;
    case 'KeyFileError': {
      const sys = findError(err.cause, (e) => e.code != null && SYSTEM[e.code] != null);
      return sys?.code != null ? `${message} (${SYSTEM[sys.code]}, ${sys.code})` : message;
    }
    case 'WrongChainError':
      return `wrong chain: ${message}`;
    case 'InsufficientBalanceError':
      return `not enough funds: ${message}`;
    case 'ContractRevertError':
      return `transaction refused: ${message}`;
    case 'SignatureRejectedError':
      return message;
    case 'QuoteRejectedError':
      return `quote rejected: ${message}`;
    case 'DelegationRefusedError':
      return message;
    case 'PutRefusedError':
      return `refused: ${message}`;
    case 'HttpRequestError':
      return `chain unreachable: ${err.url ?? ''} (${firstLine(err.details ?? message)})`;
    case 'TimeoutError':
      return `timed out: ${message}`;
    case 'AbortError':
      return `interrupted: ${message}`;
    case 'RangeError':
    case 'TypeError':
      return message;
    default:
      return err.name != null && err.name !== 'Error' ? `${err.name}: ${message}` : message;
  }
}

/** The stack and the chain of causes, for CAIRN_DEBUG=1. */
export function debugDetails(error: unknown, depth = 0): string {
  if (error == null || typeof error !== 'object' || depth > 5) return String(error);
  const err = error as ErrorLike & { stack?: string };
  let out = err.stack ?? `${err.name}: ${err.message}`;
  for (const inner of err.errors ?? []) out += `\n  [aggregated] ${debugDetails(inner, depth + 1)}`;
  if (err.cause != null) out += `\n  [cause] ${debugDetails(err.cause, depth + 1)}`;
  return out;
}
