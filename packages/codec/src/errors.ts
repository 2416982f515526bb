/**
 * One error class per condition, each with a literal `name` so callers (and tests) can tell
 * them apart with `err.name` across realms and worker boundaries.
 */

export class CodecError extends Error {
  override name: string = 'CodecError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Fewer than k verified pieces are available for a segment. */
export class NotEnoughPiecesError extends CodecError {
  override name = 'NotEnoughPiecesError' as const;
}

/** Bytes do not match what was committed to: a Merkle proof, an authentication tag, a padding check. */
export class IntegrityError extends CodecError {
  override name = 'IntegrityError' as const;
}

/** The stream of segments ended before the segment marked last. */
export class TruncatedError extends CodecError {
  override name = 'TruncatedError' as const;
}

/** The key given is not the key the data was sealed with (checked by a key commitment). */
export class WrongKeyError extends CodecError {
  override name = 'WrongKeyError' as const;
}

/** A manifest (or other encoded structure) is not well formed. */
export class MalformedError extends CodecError {
  override name = 'MalformedError' as const;
}

/** An encoded structure carries a version this code does not know. */
export class UnsupportedVersionError extends CodecError {
  override name = 'UnsupportedVersionError' as const;
}

/** A share link (URL fragment) cannot be parsed. */
export class InvalidShareLinkError extends CodecError {
  override name = 'InvalidShareLinkError' as const;
}

/** A recovery phrase is not a valid BIP-39 mnemonic. */
export class InvalidRecoveryPhraseError extends CodecError {
  override name = 'InvalidRecoveryPhraseError' as const;
}
