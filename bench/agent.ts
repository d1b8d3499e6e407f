/**
 * A load agent: a process of its own holding a share of the clients (real connections, see
 * drivers.ts) and driving them as the orchestrator says. Client i belongs to agent
 * floor(i / 2) % agents, so that the pair (2k -> 2k+1) lives in one agent (direct latency is then
 * measured on one clock) and any first N clients are spread evenly.
 */
import type { ChatMessage } from '../src/protocol';
import { createClient, type BenchClient } from './drivers';
import { serve } from './ipc';
import {
  clockMs,
  cpuSample,
  makeBody,
  parseBody,
  userName,
  type AgentCommands,
  type AgentEvents,
  type AgentInit,
  type FanoutVia,
} from './protocol';
import { errorMessage } from '../src/protocol/errors';

/** No sample array grows beyond this (a bound on memory, far above what any phase collects). */
const MAX_SAMPLES = 2_000_000;

let config: AgentInit | undefined;
const clients = new Map<number, BenchClient>();
const counters = { received: 0, directDelivered: 0, broadcastDelivered: 0, probeDelivered: 0, sent: 0, errors: 0, drops: 0 };
/** Why connections dropped, by reason, e.g. { 'ping timeout': 3 }. */
const dropReasons: Record<string, number> = {};

/** What is running now; only one load at a time. */
let running = false;

interface Stream {
  client: BenchClient;
  /** The partner of a direct pair; undefined for a broadcaster. */
  to: BenchClient | undefined;
  inflight: number;
  seq: number;
  /** Broadcasts sent and not yet received by everyone. */
  open: Set<number>;
}
let window = 1;
let via: FanoutVia = 'broadcast';
const directStreams = new Map<number, Stream>();
const broadcastStreams = new Map<number, Stream>();
/** Broadcast (sender:seq) -> how many local clients have it. Kept across runs: stragglers still count. */
const broadcastSeen = new Map<string, number>();
/** Sequence numbers keep growing across runs, so that a key never means two broadcasts. */
const lastSeq = new Map<number, number>();

let latencyTimer: NodeJS.Timeout | undefined;
let latencySent = 0;
let latencyReceived = 0;
let latencySamples: number[] = [];
let probeSamples: number[] = [];
/** Probe broadcasts: from send until the sender's acknowledgement arrives (after the server has handled the broadcast). */
let probeAcks: number[] = [];

function cfg(): AgentInit {
  if (!config) throw new Error('agent not initialised');
  return config;
}

function localPairs(): [BenchClient, BenchClient][] {
  const pairs: [BenchClient, BenchClient][] = [];
  for (const [index, client] of clients) {
    const partner = index % 2 === 0 ? clients.get(index + 1) : undefined;
    if (partner) pairs.push([client, partner]);
  }
  return pairs.sort((a, b) => a[0].index - b[0].index);
}

function pumpDirect(stream: Stream): void {
  const { bodyBytes } = cfg();
  while (running && stream.inflight < window && stream.to) {
    stream.inflight++;
    counters.sent++;
    void stream.client.direct(stream.to.name, makeBody('d', stream.client.index, ++stream.seq, bodyBytes)).then((ok) => {
      if (ok) return;
      counters.errors++;
      stream.inflight--;
      pumpDirect(stream);
    });
  }
}

function pumpBroadcast(stream: Stream): void {
  const { bodyBytes } = cfg();
  while (running && stream.inflight < window) {
    const seq = ++stream.seq;
    stream.inflight++;
    stream.open.add(seq);
    counters.sent++;
    const body = makeBody('b', stream.client.index, seq, bodyBytes);
    void (via === 'channel' ? stream.client.post(body) : stream.client.broadcast(body)).then((ok) => {
      if (ok) return;
      counters.errors++;
      finishBroadcast(stream, seq);
    });
  }
}

function finishBroadcast(stream: Stream, seq: number): void {
  if (!stream.open.delete(seq)) return;
  stream.inflight--;
  pumpBroadcast(stream);
}

function onMessage(_client: BenchClient, message: ChatMessage): void {
  counters.received++;
  const body = parseBody(message.body);
  if (!body) return;
  switch (body.tag) {
    case 'd': {
      counters.directDelivered++;
      const stream = directStreams.get(body.sender);
      if (stream && stream.inflight > 0) {
        stream.inflight--;
        pumpDirect(stream);
      }
      return;
    }
    case 'l':
      latencyReceived++;
      if (latencySamples.length < MAX_SAMPLES) latencySamples.push(clockMs() - body.sentAt);
      return;
    case 'b': {
      counters.broadcastDelivered++;
      const key = `${body.sender}:${body.seq}`;
      const seen = (broadcastSeen.get(key) ?? 0) + 1;
      const expected = clients.size - (clients.has(body.sender) ? 1 : 0);
      if (seen >= expected) {
        broadcastSeen.delete(key);
        events.emit('broadcastReceived', { sender: body.sender, seq: body.seq });
      } else {
        broadcastSeen.set(key, seen);
      }
      return;
    }
    case 'p':
      counters.probeDelivered++;
      if (probeSamples.length < MAX_SAMPLES) probeSamples.push(clockMs() - body.sentAt);
      return;
  }
}

function inFlight(): number {
  let n = Math.max(0, latencySent - latencyReceived);
  for (const s of directStreams.values()) n += s.inflight;
  for (const s of broadcastStreams.values()) n += s.inflight;
  return n;
}

const events = serve<AgentCommands, AgentEvents>({
  init: (init) => {
    config = init;
  },

  connect: async ({ indexes }) => {
    const { kind, url, urls, connectConcurrency } = cfg();
    const t0 = performance.now();
    const queue = [...indexes];
    let opened = 0;
    let failed = 0;
    let firstError: string | undefined;
    const worker = async (): Promise<void> => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
        const i = index;
        const client = createClient(kind, urls?.[i % urls.length] ?? url, i, userName(i), {
          onMessage,
          onDrop: (c, reason) => {
            counters.drops++;
            dropReasons[reason] = (dropReasons[reason] ?? 0) + 1;
            if (clients.get(c.index) === c) clients.delete(c.index);
          },
        });
        try {
          await client.open(60_000);
          clients.set(i, client);
          opened++;
        } catch (error) {
          failed++;
          firstError ??= errorMessage(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, connectConcurrency) }, worker));
    return { opened, failed, ms: performance.now() - t0, ...(firstError !== undefined && { firstError }) };
  },

  closeAll: async () => {
    running = false;
    for (const client of clients.values()) client.close();
    clients.clear();
    directStreams.clear();
    broadcastStreams.clear();
    broadcastSeen.clear();
    // Let the close frames leave before the caller moves on.
    await new Promise((resolve) => setTimeout(resolve, 200));
  },

  counters: () => ({ ...counters, dropReasons: { ...dropReasons }, connected: clients.size, cpu: cpuSample() }),

  directStart: ({ window: w }) => {
    if (running) throw new Error('a load is already running');
    running = true;
    window = w;
    directStreams.clear();
    for (const [sender, recipient] of localPairs()) {
      const stream: Stream = { client: sender, to: recipient, inflight: 0, seq: 0, open: new Set() };
      directStreams.set(sender.index, stream);
    }
    for (const stream of directStreams.values()) pumpDirect(stream);
    return { pairs: directStreams.size };
  },

  latencyStart: ({ ratePerSec }) => {
    if (running) throw new Error('a load is already running');
    running = true;
    const pairs = localPairs();
    const { bodyBytes } = cfg();
    latencySamples = [];
    latencySent = 0;
    latencyReceived = 0;
    if (pairs.length === 0 || ratePerSec <= 0) return { pairs: 0 };
    const start = performance.now();
    let next = 0;
    const seqs = new Map<number, number>();
    // A 2 ms tick sends whatever is due by now: an open loop, independent of replies.
    latencyTimer = setInterval(() => {
      const due = Math.min(Math.floor(((performance.now() - start) / 1000) * ratePerSec) - latencySent, ratePerSec);
      for (let k = 0; k < due; k++) {
        const [sender, recipient] = pairs[next++ % pairs.length]!;
        const seq = (seqs.get(sender.index) ?? 0) + 1;
        seqs.set(sender.index, seq);
        latencySent++;
        counters.sent++;
        void sender.direct(recipient.name, makeBody('l', sender.index, seq, bodyBytes)).then((ok) => {
          if (ok) return;
          counters.errors++;
          latencyReceived++;
        });
      }
    }, 2);
    return { pairs: pairs.length };
  },

  latencyMark: () => {
    latencySamples = [];
  },

  broadcastStart: ({ senders, window: w, via: how }) => {
    if (running) throw new Error('a load is already running');
    running = true;
    window = w;
    via = how;
    broadcastStreams.clear();
    for (const index of senders) {
      const client = clients.get(index);
      if (client) broadcastStreams.set(index, { client, to: undefined, inflight: 0, seq: lastSeq.get(index) ?? 0, open: new Set() });
    }
    for (const stream of broadcastStreams.values()) pumpBroadcast(stream);
  },

  broadcastDone: ({ sender, seq }) => {
    const stream = broadcastStreams.get(sender);
    if (stream) finishBroadcast(stream, seq);
  },

  stopLoad: async ({ drainMs }) => {
    running = false;
    if (latencyTimer) clearInterval(latencyTimer);
    latencyTimer = undefined;
    const deadline = performance.now() + drainMs;
    while (inFlight() > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const undrained = inFlight();
    for (const [index, stream] of broadcastStreams) lastSeq.set(index, stream.seq);
    directStreams.clear();
    broadcastStreams.clear();
    latencySent = latencyReceived = 0;
    return { undrained };
  },

  probeReset: () => {
    probeSamples = [];
    probeAcks = [];
  },

  probeSend: async ({ sender: wanted, count, intervalMs }) => {
    // The sender asked for, or (if its connection dropped) the first local client still connected.
    const client = clients.get(wanted) ?? [...clients.values()].sort((x, y) => x.index - y.index)[0];
    if (!client) throw new Error('no client is connected here');
    const sender = client.index;
    const { bodyBytes } = cfg();
    const start = performance.now();
    let sent = 0;
    for (let seq = 1; seq <= count; seq++) {
      const wait = start + (seq - 1) * intervalMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      counters.sent++;
      sent++;
      const t0 = performance.now();
      void client.broadcast(makeBody('p', sender, seq, bodyBytes)).then((ok) => {
        if (!ok) counters.errors++;
        else probeAcks.push(performance.now() - t0);
      });
    }
    return { sent, sender };
  },

  samples: ({ which }) => (which === 'probe' ? probeSamples : which === 'probeAck' ? probeAcks : latencySamples),
});
