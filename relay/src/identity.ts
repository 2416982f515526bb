import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';

/**
 * Load the relay's libp2p key from `file`, or make a new Ed25519 key and write it there (mode
 * 0600, in a 0700 folder). The file holds the key in libp2p's protobuf form, so the peer id,
 * and with it every `/p2p/<id>` address clients were given, stays the same across restarts.
 */
export async function loadOrCreateIdentity(
  file: string,
  log: (msg: string) => void = () => {},
): Promise<{ privateKey: PrivateKey; created: boolean }> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (bytes != null) {
    const mode = (await stat(file)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      log(`identity file ${file} was readable by others (mode ${mode.toString(8)}); set to 0600`);
      await chmod(file, 0o600);
    }
    let privateKey: PrivateKey;
    try {
      privateKey = privateKeyFromProtobuf(bytes);
    } catch (err) {
      throw new Error(`identity file ${file} does not hold a libp2p private key`, { cause: err });
    }
    return { privateKey, created: false };
  }
  const privateKey = await generateKeyPair('Ed25519');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Write beside the target and rename, so a crash never leaves a half-written key behind.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, privateKeyToProtobuf(privateKey), { mode: 0o600, flag: 'wx' });
  await rename(tmp, file);
  log(`created relay identity ${file}`);
  return { privateKey, created: true };
}
