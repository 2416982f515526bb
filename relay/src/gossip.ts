import { TopicValidatorResult } from '@libp2p/gossipsub';
import type { GossipSub } from '@libp2p/gossipsub';
import { DIRECTORY_TOPIC, verifyAnnouncement } from '@cairn/peer/directory';
import type { Directory, PutResult, SignedHostAnnouncement } from '@cairn/peer/directory';

export interface DirectoryGossipInit {
  onReceived?(result: PutResult | 'rejected', err?: Error): void;
  log?(msg: string): void;
}

/**
 * Share host announcements between relays over gossipsub. Every gossiped record is verified
 * before it is stored and before gossipsub forwards it: a forged or expired record is rejected
 * (and counts against the sender's peer score), a record we already hold is ignored (not
 * forwarded again), so a record crosses each relay link about once.
 */
export class DirectoryGossip {
  private readonly pubsub: GossipSub;
  private readonly directory: Directory;
  private readonly init: DirectoryGossipInit;

  constructor(pubsub: GossipSub, directory: Directory, init: DirectoryGossipInit = {}) {
    this.pubsub = pubsub;
    this.directory = directory;
    this.init = init;
  }

  start(): void {
    this.pubsub.topicValidators.set(DIRECTORY_TOPIC, async (_peer, message) => {
      try {
        const record = await verifyAnnouncement(message.data);
        const result = this.directory.put(record);
        this.init.onReceived?.(result);
        return result === 'stale' ? TopicValidatorResult.Ignore : TopicValidatorResult.Accept;
      } catch (err) {
        this.init.onReceived?.('rejected', err as Error);
        return TopicValidatorResult.Reject;
      }
    });
    this.pubsub.subscribe(DIRECTORY_TOPIC);
  }

  stop(): void {
    this.pubsub.unsubscribe(DIRECTORY_TOPIC);
    this.pubsub.topicValidators.delete(DIRECTORY_TOPIC);
  }

  /** Pass a record this relay accepted directly from a host on to the other relays. */
  async publish(record: SignedHostAnnouncement): Promise<void> {
    try {
      await this.pubsub.publish(DIRECTORY_TOPIC, record.bytes);
    } catch (err) {
      this.init.log?.(`gossip publish failed: ${(err as Error).message}`);
    }
  }
}
