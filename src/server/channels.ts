import { GENERAL_CHANNEL } from '../protocol';
import type { StoredChannel } from './store/store';

/** One channel as the server keeps it in memory. */
export interface Channel {
  readonly id: number;
  name: string;
  topic: string;
  readonly private: boolean;
  /** null for #general, or once the creator's account was removed. */
  creator: string | null;
  /** Empty for #general, whose members are every account. */
  readonly members: Set<string>;
}

/** Who exists: #general's members. */
interface Everyone {
  has(username: string): boolean;
  usernames(): string[];
}

/**
 * The channels and their members, kept in memory (every post and every delivery checks them) and mirrored in
 * the store, which also keeps each member's read position.
 */
export class Channels {
  private readonly byName = new Map<string, Channel>();
  private readonly byId = new Map<number, Channel>();

  constructor(
    stored: Iterable<StoredChannel>,
    private readonly everyone: Everyone,
  ) {
    for (const channel of stored) this.add(channel);
  }

  add(stored: Omit<StoredChannel, 'createdAt' | 'lastSeq'>): Channel {
    const { id, name, topic, creator } = stored;
    const channel: Channel = { id, name, topic, private: stored.private, creator, members: new Set(stored.members) };
    this.byName.set(name, channel);
    this.byId.set(id, channel);
    return channel;
  }

  /** Takes the stored channels as they are now (another node changed some): kept channels stay the same objects. */
  replace(stored: Iterable<StoredChannel>): void {
    const old = new Map(this.byId);
    this.byName.clear();
    this.byId.clear();
    for (const s of stored) {
      const channel = old.get(s.id);
      if (!channel) {
        this.add(s);
        continue;
      }
      Object.assign(channel, { name: s.name, topic: s.topic, creator: s.creator });
      channel.members.clear();
      for (const member of s.members) channel.members.add(member);
      this.byName.set(channel.name, channel);
      this.byId.set(channel.id, channel);
    }
  }

  get(name: string): Channel | undefined {
    return this.byName.get(name);
  }

  withId(id: number): Channel | undefined {
    return this.byId.get(id);
  }

  /** The channel named so if `user` may see it: a public one, or a private one they are a member of. */
  visible(name: string, user: string): Channel | undefined {
    const channel = this.byName.get(name);
    return channel && (!channel.private || this.isMember(channel, user)) ? channel : undefined;
  }

  /** Every channel `user` may see, by name. */
  visibleTo(user: string): Channel[] {
    return [...this.byName.values()].filter((c) => !c.private || this.isMember(c, user)).sort((a, b) => a.name.localeCompare(b.name));
  }

  isGeneral(channel: Channel): boolean {
    return channel.name === GENERAL_CHANNEL;
  }

  isMember(channel: Channel, user: string): boolean {
    return this.isGeneral(channel) ? this.everyone.has(user) : channel.members.has(user);
  }

  /** Members, sorted. */
  membersOf(channel: Channel): string[] {
    return this.isGeneral(channel) ? this.everyone.usernames() : [...channel.members].sort();
  }

  memberCount(channel: Channel): number {
    return this.isGeneral(channel) ? this.everyone.usernames().length : channel.members.size;
  }

  rename(channel: Channel, to: string): void {
    this.byName.delete(channel.name);
    channel.name = to;
    this.byName.set(to, channel);
  }

  remove(channel: Channel): void {
    this.byName.delete(channel.name);
    this.byId.delete(channel.id);
  }

  /**
   * A removed account leaves every channel, and the channels it created have no creator from now on. Returns the
   * private channels it was the last member of, removed here: nobody could see them again (the store still has them).
   */
  forget(user: string): Channel[] {
    const emptied: Channel[] = [];
    for (const channel of [...this.byName.values()]) {
      const wasMember = channel.members.delete(user);
      if (channel.creator === user) channel.creator = null;
      if (wasMember && channel.private && channel.members.size === 0) {
        this.remove(channel);
        emptied.push(channel);
      }
    }
    return emptied;
  }
}
