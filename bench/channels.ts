/**
 * Channel measures (issue 16): a member's catch-up after missing many channel messages, against the replay of
 * missed direct messages in the same run; and the rows one channel message writes, at two channel sizes.
 * The channel fan-out is measures.ts's measureFanout with `via` 'channel'.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { ParleyClient } from '../src/client/parley-client';
import { GENERAL_CHANNEL } from '../src/protocol';
import type { Sizes } from './config';
import { startChild } from './ipc';
import { BENCH_PASSWORD, type StoreCommands } from './protocol';
import { track } from './rig';
import { spread, type Spread } from './stats';

export interface CatchUpRun {
  /** From starting to connect until the unread count and the latest page were both in. */
  totalMs: number;
  /** The `conversations` and `history` requests after the sign-in reply. */
  afterLoginMs: number;
  unread: number;
}

export interface CatchUpResult {
  messages: number;
  totalMs: Spread;
  afterLoginMs: Spread;
  runs: CatchUpRun[];
}

/**
 * 16. `from` posts `catchUpMessages` to #general while `to` is signed out; `to` then connects, signs in, asks for
 * its conversations (the unread count) and #general's latest page, as the extension does on coming back.
 */
export async function measureCatchUp(url: string, sizes: Sizes, from: string, to: string): Promise<CatchUpResult> {
  const options = { requestTimeoutMs: 60_000, socket: { reconnection: false } };
  const sender = new ParleyClient(url, options);
  await sender.connect();
  await sender.login(from, BENCH_PASSWORD);
  const runs: CatchUpRun[] = [];
  try {
    // Run 0 is a warm-up with a tenth of the messages.
    for (let run = 0; run <= sizes.replayRepeats; run++) {
      const count = run === 0 ? Math.max(10, Math.round(sizes.catchUpMessages / 10)) : sizes.catchUpMessages;
      for (let i = 0; i < count; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, count - i) }, (_, k) => sender.post(GENERAL_CHANNEL, `missed post ${i + k} of run ${run}`)),
        );
      }
      const member = new ParleyClient(url, options);
      try {
        const t0 = performance.now();
        await member.connect();
        await member.login(to, BENCH_PASSWORD);
        const t1 = performance.now();
        const [{ channels }, page] = await Promise.all([
          member.request('conversations', {}),
          member.request('history', { channel: GENERAL_CHANNEL, limit: 50 }),
        ]);
        const t2 = performance.now();
        const general = channels.find((c) => c.name === GENERAL_CHANNEL);
        if (!general || general.unread < count) throw new Error(`#general shows ${general?.unread} unread; ${count} were posted`);
        if (page.messages.length !== 50) throw new Error(`the latest page of #general had ${page.messages.length} messages, not 50`);
        if (run > 0) runs.push({ totalMs: t2 - t0, afterLoginMs: t2 - t1, unread: general.unread });
        // Read up to the newest, so that the next run's count starts from zero.
        await member.request('read', { conversation: { channel: GENERAL_CHANNEL }, upTo: general.lastSeq });
        await member.logout();
      } finally {
        member.close();
      }
    }
  } finally {
    sender.close();
  }
  return {
    messages: sizes.catchUpMessages,
    totalMs: spread(runs.map((r) => r.totalMs)),
    afterLoginMs: spread(runs.map((r) => r.afterLoginMs)),
    runs,
  };
}

export interface ChannelRowsResult {
  posts: number;
  /** Rows added to the database per channel message, for each channel size measured. */
  perSize: { members: number; rowsPerMessage: number }[];
}

/** 15. Rows written per channel message in channels of each size, counted in the database file (a fresh process). */
export async function measureChannelRows(sizes: Sizes, tmp: string): Promise<ChannelRowsResult> {
  const child = track(startChild<StoreCommands>(path.join(__dirname, 'store-child.ts'), 'channel rows'));
  try {
    const perSize = [];
    for (const members of sizes.channelRowsMembers) {
      const dataDir = mkdtempSync(path.join(tmp, `rows-${members}-`));
      const { rowsPerMessage } = await child.call('channelRows', { dataDir, members, posts: sizes.channelRowsPosts }, sizes.phaseTimeoutMs);
      perSize.push({ members, rowsPerMessage });
    }
    return { posts: sizes.channelRowsPosts, perSize };
  } finally {
    child.kill();
    await child.exited;
  }
}
