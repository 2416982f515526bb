// The auditor's bookkeeping with a stub node (no network): what counts as a failed proof and
// what as mere silence, probes, option checks, and a prompt stop while targets are slow.
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { Auditor, ScoreKeeper, type AuditorNode, type AuditTarget } from '../src/index.ts';

const ROOT = 'ab'.repeat(32);

function named(name: string): Error {
  const err = new Error(name);
  err.name = name;
  return err;
}

function stub(over: Partial<AuditorNode> = {}): AuditorNode {
  return {
    dialProtocol: () => Promise.reject(named('UnexpectedEndOfStreamError')),
    ping: () => Promise.resolve(7),
    ...over,
  };
}

async function target(shards = true): Promise<AuditTarget> {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
  return { peerId, ...(shards ? { shards: [{ root: ROOT, size: 4096 }] } : {}) };
}

describe('Auditor (stub node)', () => {
  it('tells a host that answered without a proof from one that did not answer', async () => {
    const cases: [string, string][] = [
      ['AuditFailedError', 'failed'],
      ['ShardNotFoundError', 'failed'],
      ['HostInternalError', 'failed'],
      ['MalformedMessageError', 'failed'],
      ['TimeoutError', 'unreachable'],
      ['UnexpectedEndOfStreamError', 'unreachable'],
      ['UnsupportedProtocolError', 'unreachable'],
      ['NoValidAddressesError', 'unreachable'],
    ];
    for (const [name, kind] of cases) {
      const scores = new ScoreKeeper();
      const auditor = new Auditor({
        node: stub({ dialProtocol: () => Promise.reject(named(name)) }),
        scores,
        targets: () => [],
      });
      const t = await target();
      const outcome = await auditor.auditOnce(t);
      expect([name, outcome!.kind]).toEqual([name, kind]);
      expect(outcome!.root).toBe(ROOT);
      expect(outcome!.error!.name).toBe(name);
      expect(scores.evidence(t.peerId)![kind as 'failed' | 'unreachable']).toBeCloseTo(1, 6);
    }
  });

  it('pings a host with no known shard, and a failed ping is only silence', async () => {
    const scores = new ScoreKeeper();
    const t = await target(false);
    const up = new Auditor({ node: stub(), scores, targets: () => [t] });
    const [ok] = await up.runOnce();
    expect(ok).toMatchObject({ kind: 'answered', latencyMs: 7 });
    const down = new Auditor({
      node: stub({ ping: () => Promise.reject(named('AuditFailedError')) }),
      scores,
      targets: () => [t],
    });
    expect((await down.runOnce())[0]!.kind).toBe('unreachable');
  });

  it('records nothing for an audit its own signal aborted, and bounds each by its timeout', async () => {
    const scores = new ScoreKeeper();
    const hang: AuditorNode = stub({
      dialProtocol: (_peer, _protocols, options) =>
        new Promise((_, reject) => {
          if (options?.signal?.aborted === true) reject(named('AbortError'));
          options?.signal?.addEventListener('abort', () => reject(named('AbortError')));
        }),
    });
    const auditor = new Auditor({ node: hang, scores, targets: () => [], timeoutMs: 100 });
    const t = await target();
    const controller = new AbortController();
    const pending = auditor.auditOnce(t, controller.signal);
    controller.abort();
    expect(await pending).toBeUndefined();
    expect(scores.has(t.peerId)).toBe(false);
    const started = Date.now();
    expect((await auditor.auditOnce(t))!.kind).toBe('unreachable');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('stops at once even while reading its targets', async () => {
    const auditor = new Auditor({
      node: stub(),
      scores: new ScoreKeeper(),
      targets: () => new Promise(() => {}), // never answers
    });
    auditor.start();
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await auditor.stop();
    expect(Date.now() - started).toBeLessThan(500);
    expect(auditor.running).toBe(false);
  });

  it('checks its options', () => {
    const base = { node: stub(), scores: new ScoreKeeper(), targets: () => [] };
    expect(() => new Auditor({ ...base, intervalMs: 0 })).toThrow(RangeError);
    expect(() => new Auditor({ ...base, jitter: 1 })).toThrow(RangeError);
    expect(() => new Auditor({ ...base, concurrency: 0 })).toThrow(RangeError);
    expect(() => new Auditor({ ...base, leaves: 17 })).toThrow(RangeError);
    expect(() => new Auditor({ ...base, timeoutMs: -1 })).toThrow(RangeError);
  });
});
