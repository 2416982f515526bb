/**
 * The drive: its file list (the index, sealed on this device and on hosts), uploads and
 * downloads. Transfers live here, not in a page, so they keep going while the user browses the
 * app. Uploads run one at a time (each already keeps every host busy).
 */
import { shardSetOf, toHex } from '@cairn/codec';
import { createChainReader, endDeal, getDeal, marketGenesis } from '@cairn/contracts';
import {
  DurabilityKeeper,
  RepairBusyError,
  download,
  followRepairs,
  grantMandate,
  mediatorInfo,
  openLink,
  sendDelegation,
  signDelegation,
  putFile,
  redundancyFor,
  type KeeperEvent,
  type OpenedFile,
  type Placement,
} from '@cairn/drive';
import { idbDelete, idbGet, idbKeys, idbSet } from '../idb.ts';
import { findIndex, publishIndex, retireIndex, type IndexCopy } from '../drive/index-store.ts';
import {
  emptyIndex,
  indexKey,
  mergeIndexes,
  openIndex,
  sealIndex,
  type DriveFile,
  type DriveIndex,
} from '../drive/index-format.ts';
import { saveStream, type SaveMethod } from '../save.ts';
import { codecWorker } from '../worker.ts';
import { isPaidHost, net, type AppNetwork } from './network.svelte.ts';
import { session } from './session.svelte.ts';
import { Transfer, describe } from './transfer.svelte.ts';

/** How long uploads are paid for: 30 days, within what hosts quote for (10,000 periods). */
const STORAGE_SECONDS = 30 * 24 * 3600;
const MAX_DEAL_PERIODS = 10_000;

export interface Health {
  /** Shards proven alive by a fresh audit (and, when paid, whose deal is active). */
  alive: number;
  n: number;
  k: number;
  checkedAt: number;
  /** When the keeper last regenerated lost shards of it on new hosts, and how many. */
  repairedAt?: number;
  repairedShards?: number;
}

/** How often the drive's files are checked (and repaired below the threshold) while it is open. */
const KEEP_EVERY_MS = 10 * 60_000;

/** Repairs delegated to a mediator while this drive is closed (kept on this device). */
export interface RepairDelegation {
  /** The mediator's address (a multiaddr ending in its peer id). */
  mediator: string;
  /** Its wallet: the mandate's mediator. */
  wallet: string;
  /** Token base units it may spend on repair deals (decimal). */
  budget: string;
  /** Unix ms when the mandate ends. */
  expiresAt: number;
  /** Files it holds for this drive. */
  files: number;
}

interface StoredIndex {
  sealed: Uint8Array;
  copy?: IndexCopy;
}

class DriveState {
  index = $state.raw<DriveIndex>(emptyIndex());
  uploads = $state<Transfer[]>([]);
  downloads = $state<Transfer[]>([]);
  health = $state<Record<string, Health>>({});
  /** Where the index stands off the device. */
  backup = $state<'none' | 'pending' | 'saving' | 'saved' | 'failed' | 'local-only'>('none');
  backupHosts = $state(0);
  backupError = $state<string | null>(null);
  restoreStep = $state<string | null>(null);
  /** Uploads a closed tab cut off: the file must be chosen again. */
  interrupted = $state.raw<{ key: string; name: string; size: number; startedAt: number }[]>([]);

  #key: CryptoKey | undefined;
  #copy: IndexCopy | undefined;
  #queue: { transfer: Transfer; file: File }[] = [];
  #running = false;
  #publishing: Promise<void> | undefined;
  #republish = false;
  #checking: Promise<void> | undefined;
  #keepTimer: ReturnType<typeof setInterval> | undefined;
  /** The keeper's last error, e.g. no hosts free to take a repaired shard. */
  keeperError = $state<string | null>(null);
  delegation = $state<RepairDelegation | null>(null);
  delegationStep = $state<string | null>(null);
  delegationError = $state<string | null>(null);

  get files(): DriveFile[] {
    return this.index.files;
  }

  get busy(): boolean {
    return this.uploads.some((u) => u.status === 'queued' || u.status === 'running');
  }

  /** After sign-in: the index kept on this device, if any. */
  async load(): Promise<void> {
    const keys = session.keys;
    if (!keys) return;
    this.#key = await indexKey(keys.driveKey);
    this.index = emptyIndex();
    this.#copy = undefined;
    this.backup = 'none';
    const stored = await idbGet<StoredIndex>('index', keys.wallet.address);
    if (stored) {
      this.index = await openIndex(stored.sealed, this.#key);
      this.#copy = stored.copy;
      this.backup = stored.copy ? 'saved' : this.index.files.length ? 'pending' : 'none';
      this.backupHosts = stored.copy?.holders.length ?? 0;
    }
    this.delegation = this.#storedDelegation();
    clearInterval(this.#keepTimer);
    void this.checkAllHealth();
    this.#keepTimer = setInterval(() => void this.checkAllHealth(), KEEP_EVERY_MS);
    await this.#loadInterrupted();
  }

  async #loadInterrupted(): Promise<void> {
    const prefix = `${session.account}:`;
    const keys = (await idbKeys('uploads')).filter((k) => k.startsWith(prefix));
    const found = await Promise.all(
      keys.map(async (key) => ({
        key,
        ...(await idbGet<{ name: string; size: number; startedAt: number }>('uploads', key))!,
      })),
    );
    this.interrupted = found.filter((u) => u.name !== undefined);
  }

  async dismissInterrupted(key: string): Promise<void> {
    await idbDelete('uploads', key);
    this.interrupted = this.interrupted.filter((u) => u.key !== key);
  }

  /** Finds the drive's index on the network from the phrase's account (and the paying wallet). */
  async restoreFromNetwork(): Promise<boolean> {
    const reader = session.reader;
    if (!reader || !this.#key || !session.account) {
      this.restoreStep = 'This network has no chain, so a drive cannot be found from its phrase.';
      return false;
    }
    const accounts = [...new Set([session.account, session.payer ?? session.account])];
    const network = await net.network('any', session.keys?.peer.privateKey);
    const found = await findIndex(network, reader, accounts, this.#key, {
      onStep: (s) => (this.restoreStep = s),
    });
    if (!found) {
      this.restoreStep = 'No file list was found for this phrase.';
      return false;
    }
    this.index = mergeIndexes(this.index, found.index);
    this.#copy = found.copy;
    this.backup = 'saved';
    this.backupHosts = found.copy.holders.length;
    await this.#saveLocal();
    this.restoreStep = `Found ${found.index.files.length} file(s).`;
    void this.checkAllHealth();
    return true;
  }

  addFiles(files: Iterable<File>): void {
    for (const file of files) {
      const transfer = new Transfer('upload', file.name, file.size);
      this.uploads = [transfer, ...this.uploads];
      this.#queue.push({ transfer, file });
    }
    void this.#drain();
  }

  clearFinished(): void {
    this.uploads = this.uploads.filter((u) => u.status === 'queued' || u.status === 'running');
    this.downloads = this.downloads.filter((d) => d.status === 'running');
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const { transfer, file } = this.#queue.shift()!;
        if (transfer.controller.signal.aborted) {
          transfer.fail(transfer.controller.signal.reason);
          continue;
        }
        await this.#upload(transfer, file);
      }
    } finally {
      this.#running = false;
    }
    if (this.backup === 'pending') void this.publish();
  }

  async #upload(t: Transfer, file: File): Promise<void> {
    t.status = 'running';
    t.phase = 'Finding hosts';
    // Kept until the upload ends, so a tab closed halfway says so on the next visit.
    const mark = `${session.account}:${crypto.randomUUID()}`;
    await idbSet('uploads', mark, { name: file.name, size: file.size, startedAt: Date.now() });
    try {
      const identity = session.keys?.peer.privateKey;
      const chain = net.config?.chain ?? null;
      const signer = session.payerSigner;
      const all = await (await net.network('any', identity)).hosts({ limit: 100 });
      const paidHosts = all.filter(isPaidHost);
      const paid = chain !== null && signer !== undefined && paidHosts.length >= 2;
      const pool = paid ? paidHosts : all.filter((h) => !isPaidHost(h));
      if (pool.length < 2)
        throw Object.assign(new Error('not enough hosts'), { name: 'NotEnoughHostsError' });
      // The default redundancy: the churn simulation's scheme, scaled to the hosts there are.
      const { k, m } = redundancyFor(pool.length);
      const duration = chain ? dealPeriods(chain.periodSeconds) : 0;
      const network = await net.network(paid ? 'paid' : 'free', identity);
      const worker = codecWorker();
      const result = await putFile(network, () => file.stream(), {
        k,
        m,
        size: file.size,
        name: file.name,
        ...(file.type && /^[\x20-\x7e]{1,255}$/.test(file.type) ? { mimeType: file.type } : {}),
        modified: file.lastModified,
        baseUrl: `${location.origin}/s`,
        ...(worker ? { engine: worker.engine } : {}),
        ...(paid ? { paid: { signer: signer!, duration } } : {}),
        signal: t.controller.signal,
        onProgress: (p) => {
          // Both passes read the whole file: the first only hashes, the second sends.
          const done = p.phase === 'hashing' ? p.bytes : file.size + p.bytes;
          const label =
            p.phase === 'hashing'
              ? 'Encrypting and fingerprinting'
              : p.phase === 'retrying'
                ? 'Retrying on other hosts'
                : `Sending to hosts (${p.shardsStored}/${p.shards} stored)`;
          t.report(label, Math.min(done, 2 * file.size), 2 * file.size || 1);
        },
      });
      t.phase = 'Saving the file list';
      const entry: DriveFile = {
        id: toHex(result.recordRoot),
        fragment: result.link.slice(result.link.indexOf('#') + 1),
        name: file.name,
        size: file.size,
        type: file.type,
        addedAt: Date.now(),
        k,
        n: k + m,
        shards: shardsOf(result.placements),
      };
      if (paid) Object.assign(entry, await this.#dealTerms(entry));
      await this.#change((index) => ({ ...index, files: [entry, ...index.files] }));
      if (paid && this.delegation) void this.#redelegate(entry, true);
      this.health = {
        ...this.health,
        [entry.id]: { alive: k + m, n: k + m, k, checkedAt: Date.now() },
      };
      t.finish(`${location.origin}/s#${entry.fragment}`);
    } catch (err) {
      t.fail(err);
    } finally {
      await idbDelete('uploads', mark).catch(() => {});
    }
  }

  /** Cost and end of a file's deals, read from the chain. */
  async #dealTerms(file: DriveFile): Promise<Partial<DriveFile>> {
    const reader = session.reader;
    const ids = file.shards.flatMap((s) => (s.deal ? [BigInt(s.deal)] : []));
    if (!reader || ids.length === 0) return {};
    const deals = await Promise.all(ids.map((id) => getDeal(reader, id)));
    const cost = deals.reduce((sum, d) => sum + d.price, 0n);
    const genesis = await marketGenesis(reader);
    const end = deals.reduce((max, d) => {
      const e = d.start + BigInt(d.duration);
      return e > max ? e : max;
    }, 0n);
    const endsAt = Number(genesis + end * BigInt(reader.config.periodSeconds)) * 1000;
    return { cost: cost.toString(), endsAt };
  }

  /** Applies a change to the index, keeps it on this device, and schedules the backup. */
  async #change(fn: (index: DriveIndex) => DriveIndex): Promise<void> {
    const next = fn(this.index);
    this.index = { ...next, version: this.index.version + 1, updatedAt: Date.now() };
    await this.#saveLocal();
    this.backup = 'pending';
    if (!this.#running) void this.publish();
  }

  async #saveLocal(): Promise<void> {
    if (!this.#key || !session.account) return;
    const sealed = await sealIndex($state.snapshot(this.index) as DriveIndex, this.#key);
    await idbSet('index', session.account, {
      sealed,
      ...(this.#copy ? { copy: this.#copy } : {}),
    } satisfies StoredIndex);
  }

  /** Stores the current index on hosts (paid), then retires the copy it replaces. */
  publish(): Promise<void> {
    if (this.#publishing) {
      this.#republish = true;
      return this.#publishing;
    }
    this.#publishing = (async () => {
      do {
        this.#republish = false;
        await this.#publishOnce();
      } while (this.#republish);
    })().finally(() => (this.#publishing = undefined));
    return this.#publishing;
  }

  async #publishOnce(): Promise<void> {
    if (!this.#key) return;
    const chain = net.config?.chain ?? null;
    const signer = session.payerSigner;
    this.backup = 'saving';
    this.backupError = null;
    try {
      const sealed = await sealIndex($state.snapshot(this.index) as DriveIndex, this.#key);
      const paid = chain !== null && signer !== undefined;
      const network = await net.network(paid ? 'paid' : 'free', session.keys?.peer.privateKey);
      const duration = chain ? dealPeriods(chain.periodSeconds) : 0;
      const copy = await publishIndex(network, sealed, {
        ...(paid ? { signer: signer! } : {}),
        duration,
      });
      const old = this.#copy;
      this.#copy = copy;
      await this.#saveLocal();
      this.backup = paid ? 'saved' : 'local-only';
      this.backupHosts = copy.holders.length;
      if (old && signer && old.root !== copy.root) void retireIndex(signer, old);
    } catch (err) {
      this.backup = 'failed';
      this.backupError = describe(err);
    }
  }

  /** Ends the file's deals (the unspent escrow comes back) and drops it from the list. */
  async remove(file: DriveFile): Promise<void> {
    const signer = session.payerSigner;
    if (signer)
      for (const s of file.shards)
        if (s.deal !== undefined) await endDeal(signer, BigInt(s.deal)).catch(() => {});
    await this.#change((index) => ({
      ...index,
      files: index.files.filter((f) => f.id !== file.id),
      removed: [...(index.removed ?? []), file.id],
    }));
  }

  /**
   * Checks every file (each holder audited with fresh nonces; deals read on chain when paid) and
   * repairs those below the threshold: lost shards are regenerated from the others on new hosts,
   * with new deals, and the file's record (its link) updated. One round at a time; the keeper's
   * journal in IndexedDB finishes or undoes a repair a closed tab cut short.
   */
  checkAllHealth(): Promise<void> {
    this.#checking ??= this.#keepRound().finally(() => (this.#checking = undefined));
    return this.#checking;
  }

  async #keepRound(): Promise<void> {
    const account = session.account;
    if (!account || this.index.files.length === 0) return;
    const chain = net.config?.chain ?? null;
    const signer = session.payerSigner;
    const paid = chain !== null && signer !== undefined;
    const network = await net.network(paid ? 'paid' : 'free', session.keys?.peer.privateKey);
    const journalKey = (k: string) => `${account}:${k}`;
    this.keeperError = null;
    await new DurabilityKeeper({
      network,
      files: () =>
        this.index.files.map((f) => ({ id: f.id, link: `${location.origin}/s#${f.fragment}` })),
      baseUrl: `${location.origin}/s`,
      ...(paid ? { paid: { signer: signer!, duration: dealPeriods(chain!.periodSeconds) } } : {}),
      check: { timeoutMs: 15_000 },
      journal: {
        get: (k) => idbGet<string>('keeper', journalKey(k)),
        set: (k, v) =>
          v === undefined ? idbDelete('keeper', journalKey(k)) : idbSet('keeper', journalKey(k), v),
      },
      onLinkChanged: (id, link) => this.#relinked(network, id, link),
      onEvent: (e) => this.#onKeeperEvent(e),
    }).runOnce();
  }

  #onKeeperEvent(e: KeeperEvent): void {
    const old = this.health[e.id];
    if (e.type === 'checked' || e.type === 'repaired') {
      const repaired = e.type === 'repaired';
      this.health = {
        ...this.health,
        [e.id]: {
          ...old,
          // After a repair every lost shard is back.
          alive: repaired ? e.health.n : e.health.healthy,
          n: e.health.n,
          k: e.health.k,
          checkedAt: Date.now(),
          ...(repaired ? { repairedAt: Date.now(), repairedShards: e.repaired.length } : {}),
        },
      };
    } else if (e.type === 'error' && !(e.error instanceof RepairBusyError)) {
      const name = this.index.files.find((f) => f.id === e.id)?.name ?? 'a file';
      this.keeperError = `Could not check or repair ${name}: ${describe(e.error)}`;
    }
  }

  /** A repair gave a file a new record: its link and holders change, its id stays. */
  async #relinked(network: AppNetwork, id: string, link: string): Promise<void> {
    const opened = await openLink(network, link);
    const old = this.index.files.find((f) => f.id === id);
    if (!old) return; // deleted meanwhile
    const relinked: DriveFile = {
      ...old,
      fragment: link.slice(link.indexOf('#') + 1),
      shards: shardsOf(opened.placements),
    };
    // The new deals' cost and end, read before the one change to the index.
    const file = { ...relinked, ...(await this.#dealTerms(relinked).catch(() => ({}))) };
    await this.#change((index) => ({
      ...index,
      files: index.files.map((f) => (f.id === id ? file : f)),
    }));
    // The mediator follows the owner's own repairs only when told: send it the new placements.
    if (this.delegation) void this.#redelegate(file);
  }

  /**
   * Delegates the repair of this drive's paid files to a mediator while the drive is closed: a
   * mandate on chain (a budget of the paying wallet's tokens for repair deals, and an expiry),
   * then each file's public shape and placements, signed by the paying wallet. Nothing that
   * decrypts a file is sent. New uploads and repairs made here are sent too while it lasts.
   */
  async delegateRepairs(mediator: string, budget: bigint, days: number): Promise<void> {
    const chain = net.config?.chain;
    const signer = session.payerSigner;
    this.delegationError = null;
    try {
      if (!chain || !signer)
        throw new Error('Delegating repairs needs a network with a chain and a paying wallet.');
      this.delegationStep = 'Asking the mediator who it is';
      const node = await net.ensureNode(session.keys?.peer.privateKey);
      const info = await mediatorInfo(node, mediator.trim(), { timeoutMs: 30_000 });
      if (
        info.chainId !== chain.chainId ||
        info.market.toLowerCase() !== chain.market.toLowerCase()
      )
        throw new Error(
          `That mediator works on another chain (${info.chainId}, market ${info.market}).`,
        );
      this.delegationStep = 'Granting its repair budget on chain';
      const grant = await grantMandate(signer, info.wallet, budget, days);
      this.delegation = {
        mediator: mediator.trim(),
        wallet: info.wallet,
        budget: budget.toString(),
        expiresAt: Number(grant.expiry) * 1000,
        files: 0,
      };
      let sent = 0;
      for (const file of this.index.files) {
        if (!file.shards.some((s) => s.deal !== undefined)) continue;
        await this.#delegateFile(file, (step) => (this.delegationStep = step));
        sent++;
      }
      this.delegation = { ...this.delegation, files: sent };
      this.#storeDelegation();
    } catch (err) {
      this.delegationError = describe(err);
    } finally {
      this.delegationStep = null;
    }
  }

  async #delegateFile(file: DriveFile, onStep?: (step: string) => void): Promise<void> {
    const d = this.delegation;
    const signer = session.payerSigner;
    const chain = net.config?.chain;
    if (!d || !signer || !chain) return;
    onStep?.(`Reading ${file.name}'s record`);
    const network = await net.network('any', session.keys?.peer.privateKey);
    const opened = await openLink(network, file.fragment, { signal: AbortSignal.timeout(60_000) });
    onStep?.(`Sending ${file.name}'s shape and placements (no key)`);
    const request = await signDelegation(
      { address: signer.account, signMessage: (args) => signer.walletClient.signMessage(args) },
      {
        kind: 'delegate',
        chainId: chain.chainId,
        client: signer.account,
        mediator: d.wallet as `0x${string}`,
        id: file.id,
        issuedAt: Date.now(),
        set: shardSetOf(opened.manifest),
        placements: opened.placements,
      },
    );
    await sendDelegation(network.node, d.mediator, request, { timeoutMs: 30_000 });
  }

  async #redelegate(file: DriveFile, added = false): Promise<void> {
    try {
      await this.#delegateFile(file);
      if (added && this.delegation) {
        this.delegation = { ...this.delegation, files: this.delegation.files + 1 };
        this.#storeDelegation();
      }
    } catch (err) {
      this.delegationError = `Could not send ${file.name} to the mediator: ${describe(err)}`;
    }
  }

  #delegationKey(): string {
    return `cairn-delegation:${session.account ?? ''}`;
  }

  #storedDelegation(): RepairDelegation | null {
    try {
      const raw = localStorage.getItem(this.#delegationKey());
      const d = raw ? (JSON.parse(raw) as RepairDelegation) : null;
      return d && d.expiresAt > Date.now() ? d : null;
    } catch {
      return null;
    }
  }

  #storeDelegation(): void {
    try {
      localStorage.setItem(this.#delegationKey(), JSON.stringify(this.delegation));
    } catch {
      // storage full or denied: the mediator still holds the files
    }
  }

  /** Downloads a drive file to disk. */
  async download(file: DriveFile, method?: SaveMethod): Promise<Transfer> {
    const t = new Transfer('download', file.name, file.size);
    this.downloads = [t, ...this.downloads];
    try {
      const opened = await openShared(file.fragment, t);
      await saveOpened(opened, t, method);
    } catch (err) {
      t.fail(err);
    }
    return t;
  }

  /** A small file's bytes for a preview (images, text, PDF, video up to 64 MiB). */
  async previewBlob(file: DriveFile): Promise<Blob> {
    const t = new Transfer('download', file.name, file.size);
    const opened = await openShared(file.fragment, t);
    const parts: Uint8Array<ArrayBuffer>[] = [];
    for await (const chunk of bodyOf(opened, t)) parts.push(chunk as Uint8Array<ArrayBuffer>);
    return new Blob(parts, { type: file.type || opened.manifest.mimeType });
  }

  reset(): void {
    this.index = emptyIndex();
    this.#key = undefined;
    this.#copy = undefined;
    this.backup = 'none';
    this.health = {};
  }
}

/** A share link resolved to its record, with the network view that found its hosts. */
export interface SharedFile extends OpenedFile {
  network: AppNetwork;
}

/** Resolves a share link's fragment to its (decrypted) record. */
export async function openShared(fragment: string, t?: Transfer): Promise<SharedFile> {
  if (t) {
    t.status = 'running';
    t.phase = 'Finding the file';
  }
  const network = await net.network('any', session.keys?.peer.privateKey);
  const opened = await openLink(network, fragment, { signal: AbortSignal.timeout(60_000) });
  // A link made before a repair (by a mediator, another device) still names the old hosts: the
  // file's deals on chain say where its shards are now. Without the chain, the link as it is.
  const chain = net.config?.chain;
  const reader = session.reader ?? (chain ? createChainReader(chain) : undefined);
  const placements = reader
    ? await followRepairs(reader, opened).catch(() => opened.placements)
    : opened.placements;
  return { ...opened, placements, network };
}

function bodyOf(opened: SharedFile, t: Transfer): AsyncGenerator<Uint8Array> {
  const { network } = opened;
  return (async function* () {
    await network
      .locate(
        opened.placements.map((p) => p.host),
        AbortSignal.timeout(30_000),
      )
      .catch(() => {});
    const worker = codecWorker();
    const engine = worker ? await worker.decoder(opened.manifest, opened.fileKey) : undefined;
    try {
      yield* download(opened.manifest, opened.fileKey, opened.placements, network, {
        signal: t.controller.signal,
        ...(engine ? { engine } : {}),
      });
    } finally {
      engine?.close();
    }
  })();
}

/** Streams an opened file to disk with progress on `t`. */
export async function saveOpened(
  opened: SharedFile,
  t: Transfer,
  method?: SaveMethod,
): Promise<void> {
  t.status = 'running';
  t.phase = 'Downloading and decrypting';
  const size = opened.manifest.size;
  const used = await saveStream(bodyOf(opened, t), {
    name: opened.manifest.name || 'download',
    size,
    type: opened.manifest.mimeType,
    ...(method ? { method } : {}),
    signal: t.controller.signal,
    onBytes: (n) => t.report('Downloading and decrypting', n, size || 1),
  });
  t.finish(used);
}

/** Periods a deal runs: 30 days, within what hosts quote for. */
function dealPeriods(periodSeconds: number): number {
  return Math.min(MAX_DEAL_PERIODS, Math.ceil(STORAGE_SECONDS / periodSeconds));
}

/** The index's view of a file's placements. */
function shardsOf(placements: readonly Placement[]): DriveFile['shards'] {
  return placements.map((p) => ({
    shard: p.shard,
    host: p.host,
    ...(p.dealId !== undefined ? { deal: p.dealId.toString() } : {}),
  }));
}

export const drive = new DriveState();
session.onReady(() => drive.load());
