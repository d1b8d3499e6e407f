import type { Accounts } from '../accounts';
import type { Blocks } from '../blocks';
import type { ChannelService } from '../channel-service';
import type { ChatService } from '../chat-service';
import type { Logger } from '../log';
import { pairKey } from '../pair-key';
import type { Store } from '../store/store';
import type { ClusterEvent } from './cluster-events';
import type { ClusterReceiver } from './pg-cluster';
import type { TicketKeys } from './ticket-keys';

export interface NodeParts {
  accounts: Accounts;
  blocks: Blocks;
  store: Store;
  service: ChatService;
  channelService: ChannelService;
  log: Logger;
  ticketKeys: TicketKeys;
}

/** Where what the other nodes tell this one goes: each kind of news to the part that keeps that state. */
export function nodeReceiver(parts: NodeParts): ClusterReceiver {
  const { accounts, blocks, store, service, channelService, log, ticketKeys } = parts;
  const failed = (what: string) => (err: unknown) => log.error(`could not apply another node's ${what}`, { err: String(err) });

  const event = (event: ClusterEvent): void => {
    switch (event.type) {
      case 'account':
        return void accounts.applyRemote(event.user, event.change).catch(failed('account change'));
      case 'block':
        return service.applyRemoteBlock(event.blocker, event.blocked, event.on);
      case 'channel':
      case 'read':
        return void channelService.applyRemote(event).catch(failed('channel change'));
      case 'presence':
        for (const { user, idle, at } of event.changes) service.applyPresence(event.node, user, idle, at);
        return;
      case 'node':
        return ticketKeys.set(event.node, event.ticketKey);
      case 'gone':
        ticketKeys.remove(event.node);
        return service.nodeGone(event.node, event.at);
      case 'sync':
        return; // PgCluster's own
    }
  };

  return {
    message: (live) => (live.message.kind === 'channel' ? channelService.deliverLive(live) : service.deliverLive(live)),
    event,
    presence: (online) => service.remotePresenceIs(online),
    rejoined: () => service.yieldSessionsTakenElsewhere(),
    resync: async () => {
      await accounts.reload();
      const stored = await store.listBlocks();
      const key = (p: { blocker: string; blocked: string }): string => pairKey(p.blocker, p.blocked);
      const now = new Set(stored.map(key));
      for (const pair of blocks.pairs()) if (!now.has(key(pair))) service.applyRemoteBlock(pair.blocker, pair.blocked, false);
      for (const pair of stored) if (!blocks.has(pair.blocker, pair.blocked)) service.applyRemoteBlock(pair.blocker, pair.blocked, true);
      await channelService.reload();
    },
  };
}
