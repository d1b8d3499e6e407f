import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Database } from 'node-sqlite3-wasm';
import { MIGRATIONS } from '../src/server/store/sqlite-migrations';
import { openSqliteStore } from '../src/server/store/sqlite-store';
import type { NewMessage, Store } from '../src/server/store/store';
import { crashStoreWorker, openWorkerStore } from '../src/server/store/worker-store';
import { freshStore, SQLITE_KINDS, storeKinds, tempDir } from './helpers/stores';

const KINDS = storeKinds();

function direct(from: string, to: string, body: string, clientMsgId?: string): NewMessage {
  return { from, kind: 'direct', body, sentAt: 1000, recipients: [to], ...(clientMsgId ? { clientMsgId } : {}) };
}

function broadcast(from: string, recipients: string[], body: string): NewMessage {
  return { from, kind: 'broadcast', body, sentAt: 2000, recipients };
}

const bodies = (messages: { body: string }[]): string[] => messages.map((m) => m.body);

async function save(store: Store, message: NewMessage): Promise<number> {
  return (await store.saveMessage(message)).message.id;
}

for (const kind of KINDS) {
  const open = (place: string): Promise<Store> => kind.open(place);
  describe(kind.name, { skip: kind.skip }, () => {
    test('users: put, get, replace, lastSeen, list, remove', async (t) => {
      const { store } = await freshStore(t, kind);
      assert.equal(await store.getUser('alice'), undefined);
      await store.putUser('bob', 'hash-b', 10);
      await store.putUser('alice', 'hash-a', 20);
      assert.deepEqual(await store.getUser('alice'), {
        id: 2,
        username: 'alice',
        passwordHash: 'hash-a',
        createdAt: 20,
        lastSeen: null,
      });

      await store.setLastSeen('alice', 99);
      await store.putUser('alice', 'hash-a2', 30); // replaces the hash only
      assert.deepEqual(await store.getUser('alice'), {
        id: 2, // the same account
        username: 'alice',
        passwordHash: 'hash-a2',
        createdAt: 20,
        lastSeen: 99,
      });
      assert.deepEqual(
        (await store.listUsers()).map((u) => u.username),
        ['alice', 'bob'],
      );

      assert.equal(await store.removeUser('alice'), true);
      assert.equal(await store.removeUser('alice'), false);
      assert.equal(await store.getUser('alice'), undefined);
      assert.deepEqual(
        (await store.listUsers()).map((u) => u.username),
        ['bob'],
      );
    });

    test('removeUser deletes their blocks and pending deliveries, nothing else', async (t) => {
      const { store } = await freshStore(t, kind);
      for (const name of ['alice', 'bob', 'carol']) await store.putUser(name, 'h', 1);
      await store.addBlock('alice', 'bob');
      await store.addBlock('bob', 'carol');
      await store.addBlock('carol', 'alice');
      const toBob = await save(store, direct('alice', 'bob', 'hi bob'));
      const toAll = await save(store, broadcast('carol', ['alice', 'bob'], 'hi all'));

      assert.equal(await store.removeUser('bob'), true);
      assert.deepEqual(await store.listBlocks(), [{ blocker: 'carol', blocked: 'alice' }]);
      assert.deepEqual(await store.pendingFor('bob'), []);
      assert.deepEqual(
        (await store.pendingFor('alice')).map((m) => m.id),
        [toAll],
      );
      // What bob sent or was sent stays in the others' history.
      assert.deepEqual(
        (await store.history('alice', { limit: 10 })).map((m) => m.id),
        [toBob, toAll],
      );
    });

    test("a removed user's messages never pass to a later account of that name, in either direction", async (t) => {
      const { store } = await freshStore(t, kind);
      for (const name of ['alice', 'bob', 'carol']) await store.putUser(name, 'h', 1);
      const oldId = (await store.getUser('alice'))!.id;
      await save(store, direct('alice', 'bob', 'old alice to bob', 'c1'));
      const toAlice = await save(store, direct('bob', 'alice', 'bob to old alice'));
      await store.markDelivered([{ recipient: 'alice', ids: [toAlice] }]);
      await save(store, broadcast('carol', ['alice', 'bob'], 'carol to all')); // pending for alice

      assert.equal(await store.removeUser('alice'), true);
      await store.putUser('alice', 'h2', 2);
      const newId = (await store.getUser('alice'))!.id;
      assert.ok(newId > oldId, 'a new account has a new id');
      assert.deepEqual(await store.history('alice', { limit: 10 }), []);
      assert.deepEqual(await store.history('alice', { with: 'bob', limit: 10 }), []);
      assert.deepEqual(await store.pendingFor('alice'), []);
      assert.equal(await store.findSent('alice', 'c1'), undefined);

      // Her clientMsgIds are her own: the old account's do not make her send a duplicate.
      const fresh = await store.saveMessage(direct('alice', 'bob', 'new alice to bob', 'c1'));
      assert.equal(fresh.duplicate, false);
      assert.deepEqual(bodies(await store.history('alice', { limit: 10 })), ['new alice to bob']);
      // Bob keeps all he sent and received; his conversation with the new alice is hers alone.
      assert.deepEqual(bodies(await store.history('bob', { limit: 10 })), [
        'old alice to bob',
        'bob to old alice',
        'carol to all',
        'new alice to bob',
      ]);
      assert.deepEqual(bodies(await store.history('bob', { with: 'alice', limit: 10 })), ['new alice to bob']);

      // Ids are never reused, not even the newest one's.
      assert.equal(await store.removeUser('alice'), true);
      await store.putUser('alice', 'h3', 3);
      assert.ok((await store.getUser('alice'))!.id > newId);
    });

    test('a message stored for an account removed meanwhile does not wait for a later one of that name', async (t) => {
      const { store } = await freshStore(t, kind);
      for (const name of ['alice', 'bob']) await store.putUser(name, 'h', 1);
      // The server checked that alice exists; her removal commits first.
      const removed = store.removeUser('alice');
      const saved = save(store, direct('bob', 'alice', 'too late'));
      assert.equal(await removed, true);
      await saved;
      await store.putUser('alice', 'h2', 2);
      assert.deepEqual(await store.pendingFor('alice'), []);
      assert.deepEqual(await store.history('alice', { limit: 10 }), []);
      assert.deepEqual(bodies(await store.history('bob', { limit: 10 })), ['too late']);
    });

    test("session tokens: put, get, renew, delete one, delete a user's; expired ones go at the next put", async (t) => {
      const { store } = await freshStore(t, kind);
      const token = (tokenHash: string, username: string, createdAt: number, expiresAt: number) => ({
        tokenHash,
        username,
        createdAt,
        expiresAt,
      });
      await store.putSessionToken(token('h1', 'alice', 10, 100));
      await store.putSessionToken(token('h2', 'alice', 20, 200));
      await store.putSessionToken(token('h3', 'bob', 30, 300));
      assert.deepEqual(await store.getSessionToken('h1'), token('h1', 'alice', 10, 100));
      assert.equal(await store.getSessionToken('nope'), undefined);
      await store.renewSessionToken('h1', 150);
      assert.equal((await store.getSessionToken('h1'))?.expiresAt, 150);
      await store.deleteSessionToken('h2');
      assert.equal(await store.getSessionToken('h2'), undefined);
      assert.equal(await store.deleteSessionTokensOf('alice'), 1);
      assert.equal(await store.getSessionToken('h1'), undefined);
      assert.ok(await store.getSessionToken('h3'));
      // A put at 300 forgets h3, expired at 300.
      await store.putSessionToken(token('h4', 'bob', 300, 400));
      assert.equal(await store.getSessionToken('h3'), undefined);
      assert.ok(await store.getSessionToken('h4'));
    });

    test('removeUser deletes their session tokens', async (t) => {
      const { store } = await freshStore(t, kind);
      await store.putUser('alice', 'hash', 1);
      await store.putUser('bob', 'hash', 1);
      await store.putSessionToken({ tokenHash: 'a', username: 'alice', createdAt: 1, expiresAt: 100 });
      await store.putSessionToken({ tokenHash: 'b', username: 'bob', createdAt: 1, expiresAt: 100 });
      assert.equal(await store.removeUser('alice'), true);
      assert.equal(await store.getSessionToken('a'), undefined);
      assert.ok(await store.getSessionToken('b'));
    });

    test('saveMessage, pendingFor and markDelivered', async (t) => {
      const { store } = await freshStore(t, kind);
      const first = await store.saveMessage(direct('alice', 'bob', 'one'));
      assert.equal(first.duplicate, false);
      assert.deepEqual(first.message, {
        id: first.message.id,
        from: 'alice',
        to: 'bob',
        kind: 'direct',
        body: 'one',
        sentAt: 1000,
      });
      const second = await save(store, broadcast('alice', ['bob', 'carol', 'bob'], 'two'));
      const third = await save(store, direct('carol', 'bob', 'three'));
      assert.ok(first.message.id < second && second < third);

      const pending = await store.pendingFor('bob');
      assert.deepEqual(
        pending.map((m) => m.id),
        [first.message.id, second, third],
      );
      assert.deepEqual(pending[1], {
        id: second,
        from: 'alice',
        to: null,
        kind: 'broadcast',
        body: 'two',
        sentAt: 2000,
      });
      assert.deepEqual(
        (await store.pendingFor('carol')).map((m) => m.id),
        [second],
      );
      assert.deepEqual(await store.pendingFor('alice'), []);

      // In order: the second acknowledgement of `third` finds it acknowledged by the first.
      assert.deepEqual(
        await store.markDelivered([
          { recipient: 'bob', ids: [third, first.message.id, third, 999_999] },
          { recipient: 'carol', ids: [third] },
          { recipient: 'bob', ids: [third] },
        ]),
        [2, 0, 0],
      );
      assert.deepEqual(
        (await store.pendingFor('bob')).map((m) => m.id),
        [second],
      );
      assert.deepEqual(
        (await store.pendingFor('carol')).map((m) => m.id),
        [second],
      );
    });

    test('pendingFor pages: after an id, at most a limit, oldest first', async (t) => {
      const { store } = await freshStore(t, kind);
      const ids = await Promise.all(Array.from({ length: 7 }, (_, i) => save(store, direct('alice', 'bob', `m${i}`))));
      await save(store, direct('alice', 'carol', 'not for bob'));
      await store.markDelivered([{ recipient: 'bob', ids: [ids[3]!] }]);
      const page = async (after: number, limit: number) => (await store.pendingFor('bob', { after, limit })).map((m) => m.id);
      assert.deepEqual(await page(0, 3), ids.slice(0, 3));
      assert.deepEqual(await page(ids[2]!, 3), [ids[4], ids[5], ids[6]], 'an acknowledged one is skipped');
      assert.deepEqual(await page(ids[5]!, 3), [ids[6]]);
      assert.deepEqual(await page(ids[6]!, 3), []);
      assert.deepEqual(
        (await store.pendingFor('bob', { after: ids[4]! })).map((m) => m.id),
        ids.slice(5),
      );
    });

    test('a cap per sender and recipient: a full queue refuses a direct message, a broadcast leaves it out', async (t) => {
      const { store } = await freshStore(t, kind);
      // Within one batch too: the count sees the writes queued before it.
      const first = await Promise.all([1, 2, 3].map((i) => store.saveMessage(direct('alice', 'bob', `a${i}`, `c${i}`), 2)));
      assert.deepEqual(
        first.map((r) => r.full),
        [[], [], ['bob']],
      );
      assert.equal(first[2]!.message, undefined, 'refused, not stored');
      const retry = await store.saveMessage(direct('alice', 'bob', 'a1 again', 'c1'), 2);
      assert.equal(retry.message && retry.duplicate, true, 'a retry of a stored send keeps its first answer');
      assert.equal((await store.saveMessage(direct('carol', 'bob', 'from carol'), 2)).full.length, 0, 'other senders are not held up');

      const cast = await store.saveMessage(broadcast('alice', ['bob', 'carol'], 'to both'), 2);
      assert.ok(cast.message);
      assert.deepEqual(cast.full, ['bob']);
      assert.deepEqual(bodies(await store.pendingFor('bob')), ['a1', 'a2', 'from carol']);
      assert.deepEqual(bodies(await store.pendingFor('carol')), ['to both']);

      // An acknowledgement makes room again.
      await store.markDelivered([{ recipient: 'bob', ids: [first[0]!.message!.id] }]);
      const after = await store.saveMessage(direct('alice', 'bob', 'a4'), 2);
      assert.deepEqual([after.message?.body, after.full], ['a4', []]);
    });

    test('a direct message needs exactly one recipient', async (t) => {
      const { store } = await freshStore(t, kind);
      await assert.rejects(store.saveMessage({ ...direct('alice', 'bob', 'x'), recipients: [] }), /exactly one/);
      await assert.rejects(store.saveMessage({ ...direct('alice', 'bob', 'x'), recipients: ['b', 'c'] }), /exactly one/);
    });

    test('clientMsgId makes a retried send idempotent', async (t) => {
      const { store } = await freshStore(t, kind);
      const first = await store.saveMessage(direct('alice', 'bob', 'hello', 'c1'));
      const retry = await store.saveMessage(direct('alice', 'bob', 'hello again', 'c1'));
      assert.equal(retry.duplicate, true);
      assert.deepEqual(retry.message, first.message);
      // The id is per sender.
      const other = await store.saveMessage(direct('carol', 'bob', 'hello', 'c1'));
      assert.equal(other.duplicate, false);
      assert.deepEqual(
        (await store.pendingFor('bob')).map((m) => m.id),
        [first.message.id, other.message.id],
      );
      assert.deepEqual(await store.findSent('alice', 'c1'), first.message);
      assert.equal(await store.findSent('alice', 'c2'), undefined);
      assert.equal(await store.findSent('bob', 'c1'), undefined);
    });

    test('clientMsgId is idempotent within one batch', async (t) => {
      const { store } = await freshStore(t, kind);
      const [a, b, c] = await Promise.all([
        store.saveMessage(direct('alice', 'bob', 'first', 'same')),
        store.saveMessage(direct('alice', 'bob', 'second', 'same')),
        store.saveMessage(direct('alice', 'bob', 'other', 'different')),
      ]);
      assert.equal(a.duplicate, false);
      assert.equal(b.duplicate, true);
      assert.deepEqual(b.message, a.message);
      assert.equal(c.duplicate, false);
      assert.deepEqual(
        (await store.pendingFor('bob')).map((m) => m.body),
        ['first', 'other'],
      );
    });

    test('one failing write in a batch rejects alone and leaves no trace', async (t) => {
      const { store, place } = await freshStore(t, kind);
      // A null recipient passes the message insert and fails on the delivery: the savepoint must
      // undo the message too.
      const bad: NewMessage = { ...broadcast('alice', ['bob'], 'bad'), recipients: ['bob', null as unknown as string] };
      const results = await Promise.allSettled([
        store.saveMessage(direct('alice', 'bob', 'before')),
        store.saveMessage(bad),
        store.saveMessage(direct('alice', 'bob', 'after')),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      await store.close();
      const reopened = await open(place);
      t.after(() => reopened.close());
      assert.deepEqual(
        (await reopened.pendingFor('bob')).map((m) => m.body),
        ['before', 'after'],
      );
      assert.deepEqual(
        (await reopened.history('alice', { limit: 10 })).map((m) => m.body),
        ['before', 'after'],
      );
    });

    test('text with U+0000 is refused rather than stored cut short; the rest of its batch commits', async (t) => {
      const { store } = await freshStore(t, kind);
      const nul = /cannot keep text that contains U\+0000/;
      const cut = store.saveMessage(direct('alice', 'bob', 'before\0after'));
      const first = store.saveMessage(direct('alice', 'bob', 'first', 'id\0one'));
      const second = store.saveMessage(direct('alice', 'bob', 'second', 'id\0two'));
      const fine = store.saveMessage(direct('alice', 'bob', 'fine', 'id'));
      await assert.rejects(cut, nul);
      await assert.rejects(first, nul);
      await assert.rejects(second, nul);
      assert.equal((await fine).duplicate, false);
      await assert.rejects(store.putUser('a\0b', 'h', 1), nul);
      await assert.rejects(store.findSent('alice', 'id\0one'), nul);
      assert.deepEqual(bodies(await store.pendingFor('bob')), ['fine']);
      assert.deepEqual(bodies(await store.history('bob', { limit: 10 })), ['fine']);
      assert.deepEqual(await store.listUsers(), []);
    });

    test('text with a lone UTF-16 surrogate is refused rather than stored changed', async (t) => {
      const { store } = await freshStore(t, kind);
      const lone = /cannot keep text that contains a lone UTF-16 surrogate/;
      await assert.rejects(store.saveMessage(direct('alice', 'bob', 'mid\uD800\uD800x')), lone);
      await assert.rejects(store.saveMessage(direct('alice', 'bob', 'first', 'r\uD800\uD800')), lone);
      const pair = 'kept \u{1F680}';
      assert.equal((await store.saveMessage(direct('alice', 'bob', pair, 'r\u{1F680}'))).duplicate, false);
      assert.deepEqual(bodies(await store.pendingFor('bob')), [pair]);
    });

    test('history pages backwards, oldest first within a page', async (t) => {
      const { store } = await freshStore(t, kind);
      const ids: Record<string, number> = {};
      const sends: [string, NewMessage][] = [
        ['ab1', direct('alice', 'bob', 'ab1')],
        ['ba1', direct('bob', 'alice', 'ba1')],
        ['ac1', direct('alice', 'carol', 'ac1')],
        ['cb1', direct('carol', 'bob', 'cb1')], // alice is not part of it
        ['call', broadcast('carol', ['alice', 'bob'], 'call')],
        ['ab2', direct('alice', 'bob', 'ab2')],
        ['aall', broadcast('alice', ['bob', 'carol'], 'aall')],
        ['ba2', direct('bob', 'alice', 'ba2')],
      ];
      for (const [name, message] of sends) ids[name] = await save(store, message);

      assert.deepEqual(bodies(await store.history('alice', { limit: 100 })), ['ab1', 'ba1', 'ac1', 'call', 'ab2', 'aall', 'ba2']);
      const page1 = await store.history('alice', { limit: 3 });
      assert.deepEqual(bodies(page1), ['ab2', 'aall', 'ba2']);
      const page2 = await store.history('alice', { limit: 3, before: page1[0]?.id });
      assert.deepEqual(bodies(page2), ['ba1', 'ac1', 'call']);
      const page3 = await store.history('alice', { limit: 3, before: page2[0]?.id });
      assert.deepEqual(bodies(page3), ['ab1']);
      assert.deepEqual(await store.history('alice', { limit: 3, before: page3[0]?.id }), []);
      assert.deepEqual(await store.history('alice', { limit: 0 }), []);

      // Marking delivered does not hide a message from history.
      await store.markDelivered([{ recipient: 'alice', ids: [ids['call'] ?? 0] }]);
      assert.deepEqual(bodies(await store.history('alice', { limit: 1, before: ids['ab2'] })), ['call']);
      // Pages that mix acknowledged and unacknowledged messages, and then all acknowledged, read the same.
      const everything = ['ab1', 'ba1', 'ac1', 'call', 'ab2', 'aall', 'ba2'];
      assert.deepEqual(bodies(await store.history('alice', { limit: 100 })), everything);
      assert.deepEqual(bodies(await store.history('alice', { limit: 3, before: ids['ab2'] })), ['ba1', 'ac1', 'call']);
      await store.markDelivered([{ recipient: 'alice', ids: Object.values(ids) }]);
      assert.deepEqual(await store.pendingFor('alice'), []);
      assert.deepEqual(bodies(await store.history('alice', { limit: 100 })), everything);
      assert.deepEqual(bodies(await store.history('alice', { limit: 3, before: ids['ab2'] })), ['ba1', 'ac1', 'call']);

      // with: only the direct conversation, both directions.
      assert.deepEqual(bodies(await store.history('alice', { with: 'bob', limit: 100 })), ['ab1', 'ba1', 'ab2', 'ba2']);
      assert.deepEqual(bodies(await store.history('bob', { with: 'alice', limit: 2 })), ['ab2', 'ba2']);
      assert.deepEqual(bodies(await store.history('alice', { with: 'bob', limit: 2, before: ids['ab2'] })), ['ab1', 'ba1']);
      assert.deepEqual(bodies(await store.history('alice', { with: 'carol', limit: 100 })), ['ac1']);
      assert.deepEqual(await store.history('alice', { with: 'nobody', limit: 100 }), []);
    });

    test('channels: seqs, mentions, unread counts and read positions, history without hidden senders, a retried post', async (t) => {
      const { store } = await freshStore(t, kind);
      for (const name of ['alice', 'bob', 'carol']) await store.putUser(name, 'h', 1);
      const ops = (await store.createChannel({ name: 'ops', topic: 't', private: false, creator: 'alice', createdAt: 5 }))!;
      assert.equal(await store.createChannel({ name: 'ops', topic: '', private: true, creator: 'bob', createdAt: 6 }), undefined);
      await store.addMember(ops, 'bob');
      await store.addMember(ops, 'bob');
      const post = (from: string, body: string, mentions: string[] = [], clientMsgId?: string) =>
        store.post({ from, channelId: ops, body, sentAt: 7, mentions, ...(clientMsgId ? { clientMsgId } : {}) });
      const first = await post('alice', 'hi @bob', ['bob', 'bob'], 'p1');
      assert.deepEqual(first.message, {
        id: first.message.id,
        from: 'alice',
        to: null,
        kind: 'channel',
        body: 'hi @bob',
        sentAt: 7,
        channel: 'ops',
        seq: 1,
        mentions: ['bob'],
      });
      assert.deepEqual(await post('alice', 'again', [], 'p1'), { message: first.message, duplicate: true });
      await post('carol', 'from carol');
      const third = await post('alice', '@bob @carol', ['carol', 'bob']);
      assert.deepEqual([third.message.seq, third.message.mentions], [3, ['bob', 'carol']]);
      assert.ok(third.message.id > first.message.id);

      const state = async (user: string, hidden: string[]) => (await store.channelStates(user, hidden)).find((c) => c.channelId === ops);
      assert.deepEqual(await state('bob', ['bob']), { channelId: ops, lastSeq: 3, readSeq: 0, unread: 3, mentions: 2 });
      assert.deepEqual(await state('bob', ['bob', 'alice']), { channelId: ops, lastSeq: 3, readSeq: 0, unread: 1, mentions: 0 });
      assert.equal(await store.readChannel(ops, 'bob', 2), 2);
      assert.equal(await store.readChannel(ops, 'bob', 1), 2, 'only forward');
      assert.equal(await store.readChannel(ops, 'bob', 99), 3, 'never past the newest');
      assert.deepEqual(await state('bob', ['bob']), { channelId: ops, lastSeq: 3, readSeq: 3, unread: 0, mentions: 0 });

      assert.deepEqual(
        (await store.channelHistory(ops, { limit: 10, hidden: ['carol'] })).map((m) => m.seq),
        [1, 3],
      );
      assert.deepEqual(
        (await store.channelHistory(ops, { limit: 1, before: 3, hidden: [] })).map((m) => m.body),
        ['from carol'],
      );
      await store.renameChannel(ops, 'ops2');
      await store.setTopic(ops, 'new topic');
      const [listed] = (await store.listChannels()).filter((c) => c.id === ops);
      assert.deepEqual([listed?.name, listed?.topic, listed?.lastSeq, listed?.members], ['ops2', 'new topic', 3, ['alice', 'bob']]);
      assert.equal((await store.channelHistory(ops, { limit: 1, hidden: [] }))[0]?.channel, 'ops2');
      await store.removeMember(ops, 'bob');
      assert.equal(await state('bob', []), undefined);
      await store.deleteChannel(ops);
      assert.deepEqual(
        (await store.listChannels()).map((c) => c.name),
        ['general'],
      );
      const again = (await store.createChannel({ name: 'ops', topic: '', private: false, creator: 'alice', createdAt: 8 }))!;
      assert.equal((await store.post({ from: 'alice', channelId: again, body: 'new', sentAt: 9, mentions: [] })).message.seq, 1);
    });

    test('direct read positions: forward only, never past the conversation, with unread counts', async (t) => {
      const { store } = await freshStore(t, kind);
      for (const name of ['alice', 'bob', 'carol']) await store.putUser(name, 'h', 1);
      const ab = await save(store, direct('alice', 'bob', 'ab'));
      const ba = await save(store, direct('bob', 'alice', 'ba'));
      const cast = await save(store, broadcast('carol', ['bob'], 'cast'));
      await save(store, direct('carol', 'alice', 'not to bob'));
      assert.deepEqual(await store.directStates('bob'), [
        { with: null, lastId: cast, readId: 0, unread: 1 },
        { with: 'alice', lastId: ba, readId: 0, unread: 1 },
      ]);
      assert.equal(await store.readDirect('bob', 'alice', ab), ab);
      assert.equal(await store.readDirect('bob', 'alice', 1), ab, 'only forward');
      assert.equal(await store.readDirect('bob', 'alice', 1_000_000), ba, 'never past the newest between them');
      assert.equal(await store.readDirect('bob', null, 1_000_000), cast, 'the broadcasts: never past the newest received');
      assert.deepEqual(await store.directStates('bob'), [
        { with: null, lastId: cast, readId: cast, unread: 0 },
        { with: 'alice', lastId: ba, readId: ba, unread: 0 },
      ]);
    });

    test('blocks: add (twice is harmless), list, remove', async (t) => {
      const { store } = await freshStore(t, kind);
      await store.addBlock('alice', 'bob');
      await store.addBlock('alice', 'bob');
      await store.addBlock('alice', 'carol');
      await store.addBlock('bob', 'alice');
      assert.deepEqual(await store.listBlocks(), [
        { blocker: 'alice', blocked: 'bob' },
        { blocker: 'alice', blocked: 'carol' },
        { blocker: 'bob', blocked: 'alice' },
      ]);
      await store.removeBlock('alice', 'bob');
      await store.removeBlock('alice', 'nobody');
      assert.deepEqual(await store.listBlocks(), [
        { blocker: 'alice', blocked: 'carol' },
        { blocker: 'bob', blocked: 'alice' },
      ]);
    });

    test('data survives close and reopen; ids keep growing', async (t) => {
      const place = await kind.place(t);
      const store = await open(place);
      await store.putUser('alice', 'h', 5);
      await store.setLastSeen('alice', 6);
      await store.addBlock('alice', 'bob');
      const id = await save(store, direct('bob', 'alice', 'kept', 'k1'));
      await store.close();

      const reopened = await open(place);
      t.after(() => reopened.close());
      assert.deepEqual(await reopened.getUser('alice'), { id: 1, username: 'alice', passwordHash: 'h', createdAt: 5, lastSeen: 6 });
      assert.deepEqual(await reopened.listBlocks(), [{ blocker: 'alice', blocked: 'bob' }]);
      assert.deepEqual(
        (await reopened.pendingFor('alice')).map((m) => m.id),
        [id],
      );
      const retry = await reopened.saveMessage(direct('bob', 'alice', 'kept', 'k1'));
      assert.deepEqual([retry.message.id, retry.duplicate], [id, true]);
      assert.ok((await save(reopened, direct('bob', 'alice', 'next'))) > id);
    });

    test('a read sees a write queued just before it', async (t) => {
      const { store } = await freshStore(t, kind);
      const saved = store.saveMessage(direct('alice', 'bob', 'queued'));
      const pending = await store.pendingFor('bob'); // not awaiting `saved` first
      assert.deepEqual(
        pending.map((m) => m.body),
        ['queued'],
      );
      assert.equal((await saved).message.id, pending[0]?.id);
    });

    test('close is idempotent; afterwards every call rejects', async (t) => {
      const { store, place } = await freshStore(t, kind);
      const queued = store.putUser('alice', 'h', 1);
      await store.close();
      await store.close();
      await queued; // close flushed it
      await assert.rejects(store.getUser('alice'), /closed/);
      await assert.rejects(store.putUser('bob', 'h', 1), /closed/);
      await assert.rejects(store.saveMessage(direct('alice', 'bob', 'x')), /closed/);
      await assert.rejects(store.history('alice', { limit: 1 }), /closed/);
      const reopened = await open(place);
      t.after(() => reopened.close());
      assert.equal((await reopened.getUser('alice'))?.passwordHash, 'h');
    });
  });
}

for (const kind of SQLITE_KINDS) {
  const open = (dir: string): Promise<Store> => kind.open(dir);
  describe(`${kind.name}: its data directory`, () => {
    test('a second open of an open directory is refused', async (t) => {
      const { place: dir, store } = await freshStore(t, kind);
      await store.close();
      assert.equal(fs.existsSync(path.join(dir, 'parley.pid')), false, 'closing removes the pid file');
      const again = await open(dir);
      t.after(() => again.close());
      await assert.rejects(open(dir), {
        message: `data directory ${fs.realpathSync(dir)} is in use by process ${process.pid}`,
      });
    });

    test('a pid file naming another live process is refused; a stale one is taken over', async (t) => {
      const dir = tempDir(t);
      // Our parent process is alive and not us.
      fs.writeFileSync(path.join(dir, 'parley.pid'), `${process.ppid}\n`);
      await assert.rejects(open(dir), new RegExp(`is in use by process ${process.ppid}$`));

      const child = spawn(process.execPath, ['-e', '']);
      const deadPid = child.pid;
      await new Promise((resolve) => child.once('exit', resolve));
      assert.ok(deadPid);
      fs.writeFileSync(path.join(dir, 'parley.pid'), `${deadPid}\n`);
      fs.mkdirSync(path.join(dir, 'parley.db.lock')); // as a killed process leaves it
      const store = await open(dir);
      t.after(() => store.close());
      assert.equal(fs.readFileSync(path.join(dir, 'parley.pid'), 'utf8').trim(), String(process.pid));
      await store.putUser('alice', 'h', 1);
      assert.equal((await store.listUsers()).length, 1);
    });
  });
}

test('a database from schema version 1 keeps its undelivered messages and its history when upgraded', async (t) => {
  const dir = tempDir(t);
  // Version 1 as an earlier server left it: one message acknowledged by bob, one waiting for him.
  const old = new Database(path.join(dir, 'parley.db'));
  old.exec(MIGRATIONS[0] ?? '');
  old.exec(`PRAGMA user_version = 1;
    INSERT INTO messages (id, sender, kind, recipient, body, sent_at) VALUES (1, 'alice', 'direct', 'bob', 'seen', 10);
    INSERT INTO messages (id, sender, kind, recipient, body, sent_at) VALUES (2, 'alice', 'direct', 'bob', 'unseen', 20);
    INSERT INTO deliveries (message_id, recipient, delivered) VALUES (1, 'bob', 1), (2, 'bob', 0);`);
  old.close();

  const store = await openSqliteStore(dir);
  t.after(() => store.close());
  assert.deepEqual(bodies(await store.pendingFor('bob')), ['unseen']);
  assert.deepEqual(bodies(await store.history('bob', { limit: 10 })), ['seen', 'unseen']);
  assert.deepEqual((await store.saveMessage(direct('alice', 'bob', 'over'), 1)).full, ['bob'], 'the upgraded row counts for its sender');
  assert.deepEqual(await store.markDelivered([{ recipient: 'bob', ids: [1, 2] }]), [1]);
  assert.deepEqual(await store.pendingFor('bob'), []);
  assert.deepEqual(bodies(await store.history('bob', { limit: 10 })), ['seen', 'unseen'], 'each once');
  const next = await save(store, direct('alice', 'bob', 'new'));
  assert.ok(next > 2);
  assert.deepEqual(bodies(await store.pendingFor('bob')), ['new']);
});

test('a database written by schema version 2 opens with every user, message, block and pending delivery; accounts get ids', async (t) => {
  // test/fixtures/parley-schema-2.db was written through SqliteStore before accounts had ids: users alice (created at 100),
  // bob (200, last seen 5000), carol (300) and dave (400); alice -> bob "a1" (clientMsgId c1, acknowledged), bob -> alice "b1"
  // (pending), carol's broadcast "all" to alice (acknowledged) and bob (pending), dave -> alice "from dave" (clientMsgId d1,
  // acknowledged), alice -> dave "to dave" (acknowledged) and "to dave unread"; carol blocks bob, dave blocks bob; then dave was
  // removed.
  const dir = tempDir(t);
  fs.copyFileSync(fileURLToPath(new URL('fixtures/parley-schema-2.db', import.meta.url)), path.join(dir, 'parley.db'));
  const store = await openSqliteStore(dir);
  t.after(() => store.close());

  assert.deepEqual(await store.listUsers(), [
    { id: 1, username: 'alice', passwordHash: 'hash-alice', createdAt: 100, lastSeen: null },
    { id: 2, username: 'bob', passwordHash: 'hash-bob', createdAt: 200, lastSeen: 5000 },
    { id: 3, username: 'carol', passwordHash: 'hash-carol', createdAt: 300, lastSeen: null },
  ]);
  assert.deepEqual(await store.listBlocks(), [{ blocker: 'carol', blocked: 'bob' }]);
  assert.deepEqual(bodies(await store.pendingFor('alice')), ['b1']);
  assert.deepEqual(bodies(await store.pendingFor('bob')), ['all']);
  assert.deepEqual(bodies(await store.history('alice', { limit: 10 })), ['a1', 'b1', 'all', 'from dave', 'to dave', 'to dave unread']);
  assert.deepEqual(bodies(await store.history('alice', { with: 'bob', limit: 10 })), ['a1', 'b1']);
  assert.deepEqual(bodies(await store.history('bob', { limit: 10 })), ['a1', 'b1', 'all']);
  assert.deepEqual(bodies(await store.history('carol', { limit: 10 })), ['all']);
  assert.equal((await store.findSent('alice', 'c1'))?.body, 'a1');
  const retried = await store.saveMessage(direct('alice', 'bob', 'a1 again', 'c1'));
  assert.deepEqual([retried.duplicate, retried.message.body], [true, 'a1']);
  assert.deepEqual(await store.markDelivered([{ recipient: 'alice', ids: [2] }]), [1]);

  // A new dave is a new account: nothing of the old one's, whichever way it went.
  await store.putUser('dave', 'hash-new-dave', 600);
  assert.equal((await store.getUser('dave'))?.id, 4);
  assert.deepEqual(await store.history('dave', { limit: 10 }), []);
  assert.deepEqual(await store.history('dave', { with: 'alice', limit: 10 }), []);
  assert.deepEqual(await store.pendingFor('dave'), []);
  assert.equal(await store.findSent('dave', 'd1'), undefined);
  assert.deepEqual(bodies(await store.history('alice', { with: 'dave', limit: 10 })), []);
  const next = await save(store, direct('dave', 'alice', 'hello again'));
  assert.ok(next > 6, 'message ids go on from the old ones');
  assert.deepEqual(bodies(await store.history('dave', { limit: 10 })), ['hello again']);
});

test('a store worker that stops is replaced: what it had committed stays, the calls it held fail, later calls go through', async (t) => {
  const dir = tempDir(t);
  const restarts: string[] = [];
  const store = await openWorkerStore(dir, {}, { restarted: (error) => restarts.push(error.message) });
  t.after(() => store.close());
  const before = await save(store, direct('alice', 'bob', 'committed'));

  // Calls made in the same turn as the crash: each either committed or failed, none hangs or is stored twice.
  const inFlight = Array.from({ length: 20 }, (_, i) => store.saveMessage(direct('alice', 'bob', `in flight ${i}`, `c${i}`)));
  await crashStoreWorker(store);
  const outcomes = await Promise.allSettled(inFlight);
  assert.equal(restarts.length, 1);
  assert.match(restarts[0]!, /stopped/);

  const after = await save(store, direct('alice', 'bob', 'after'));
  assert.ok(after > before);
  // The failed ones can be retried with the same clientMsgId: stored once, whatever happened to the first try.
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === 'rejected') await store.saveMessage(direct('alice', 'bob', `in flight ${i}`, `c${i}`));
  }
  const pending = bodies(await store.pendingFor('bob'));
  assert.deepEqual(
    pending.filter((b) => b === 'committed' || b === 'after'),
    ['committed', 'after'],
  );
  assert.deepEqual(pending.filter((b) => b.startsWith('in flight')).sort(), Array.from({ length: 20 }, (_, i) => `in flight ${i}`).sort());
});

test('a store worker that keeps stopping is given up: calls fail with a clear error instead of hanging', async (t) => {
  const dir = tempDir(t);
  let gaveUp: Error | undefined;
  const store = await openWorkerStore(dir, {}, { gaveUp: (error) => (gaveUp = error) });
  t.after(() => store.close());
  for (let i = 0; i < 6 && !gaveUp; i++) {
    await store.listUsers();
    await crashStoreWorker(store);
  }
  assert.match(gaveUp?.message ?? '', /stopped 6 times within a minute/);
  await assert.rejects(store.listUsers(), /stopped 6 times/);
});

test('500 concurrent saves share few fsyncs, resolve after one, and all persist', async (t) => {
  const dir = tempDir(t);
  const store = await openSqliteStore(dir);
  // node-sqlite3-wasm's VFS syncs through this same fs module.
  const realFsync = fs.fsyncSync;
  let fsyncs = 0;
  fs.fsyncSync = (fd) => {
    fsyncs++;
    realFsync(fd);
  };
  let ids: number[];
  try {
    ids = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        store.saveMessage(direct('alice', 'bob', `m${i}`)).then(({ message }) => {
          assert.ok(fsyncs > 0, 'resolved before any fsync');
          return message.id;
        }),
      ),
    );
  } finally {
    fs.fsyncSync = realFsync;
  }
  assert.ok(fsyncs >= 1 && fsyncs <= 10, `${fsyncs} fsyncs for 500 saves`);
  ids.forEach((id, i) => {
    if (i > 0) assert.ok(id > (ids[i - 1] ?? Infinity), `ids grow in call order at ${i}`);
  });
  await store.close();

  const reopened = await openSqliteStore(dir);
  t.after(() => reopened.close());
  const pending = await reopened.pendingFor('bob');
  assert.deepEqual(
    pending.map((m) => m.id),
    ids,
  );
  assert.equal(pending[499]?.body, 'm499');
});

test('groupCommitMaxDelayMs gathers writes from several turns into one commit', async (t) => {
  const dir = tempDir(t);
  const store = await openSqliteStore(dir, { groupCommitMaxDelayMs: 30 });
  t.after(() => store.close());
  await store.putUser('alice', 'h', 1); // the first commit creates the WAL file; not counted
  const realFsync = fs.fsyncSync;
  let fsyncs = 0;
  fs.fsyncSync = (fd) => {
    fsyncs++;
    realFsync(fd);
  };
  try {
    const first = store.saveMessage(direct('alice', 'bob', 'one'));
    await new Promise((resolve) => setImmediate(resolve));
    const second = store.saveMessage(direct('alice', 'bob', 'two'));
    await Promise.all([first, second]);
  } finally {
    fs.fsyncSync = realFsync;
  }
  assert.equal(fsyncs, 1);
});

test('when the commit cannot be fsynced, every write of the batch rejects', async (t) => {
  const { store } = await freshStore(t);
  await store.putUser('alice', 'h', 1);
  const realFsync = fs.fsyncSync;
  fs.fsyncSync = () => {
    throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
  };
  let results: PromiseSettledResult<unknown>[];
  try {
    results = await Promise.allSettled([
      store.saveMessage(direct('alice', 'bob', 'a')),
      store.setLastSeen('alice', 5),
      store.saveMessage(direct('alice', 'bob', 'b')),
    ]);
  } finally {
    fs.fsyncSync = realFsync;
  }
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected', 'rejected'],
  );
  // The store keeps working once the disk does.
  const id = await save(store, direct('alice', 'bob', 'c'));
  assert.ok((await store.pendingFor('bob')).some((m) => m.id === id));
});

for (const thread of ['calling', 'worker'] as const) {
  test(`every acknowledged save survives kill -9 (store on the ${thread} thread)`, { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t);
    const writer = fileURLToPath(new URL('./fixtures/store-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, ...(thread === 'worker' ? ['worker'] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));

    const acknowledged: number[] = [];
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (buffered + chunk).split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) acknowledged.push(Number(line));
      if (acknowledged.length >= 200) child.kill('SIGKILL');
    });
    const signal = await exited;
    assert.equal(signal, 'SIGKILL', `the writer stopped on its own: ${stderr}`);
    assert.ok(acknowledged.length >= 200);
    // What a killed process leaves behind, and what the reopen must get past.
    assert.ok(fs.existsSync(path.join(dir, 'parley.pid')), 'no pid file left');
    assert.ok(fs.existsSync(path.join(dir, 'parley.db.lock')), 'no SQLite lock directory left');

    const store = await openSqliteStore(dir);
    t.after(() => store.close());
    const stored = new Set((await store.pendingFor('bob')).map((m) => m.id));
    const lost = acknowledged.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged messages lost`);
  });
}
