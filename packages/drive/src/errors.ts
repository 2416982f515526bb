/** Errors the drive facade speaks (codec errors such as NotEnoughPiecesError pass through). */

export class DriveError extends Error {
  override name: string = 'DriveError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Fewer willing hosts than shards to place. */
export class NotEnoughHostsError extends DriveError {
  override name = 'NotEnoughHostsError' as const;
}

/** Some shards could not be placed on any host after every retry. */
export class UploadFailedError extends DriveError {
  override name = 'UploadFailedError' as const;
}
