import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Server } from 'socket.io';
import { ParleyClient, type ParleyRequestError } from '../src/client/parley-client';
import type { ChatMessage } from '../src/protocol';
import { eventually } from './helpers/server';

test('events from the server that fail their schema are told as a problem, never passed on', async (t) => {
  // A real Socket.IO server playing a broken or hostile message center.
  const http = createServer();
  const io = new Server(http);
  const good: ChatMessage = { id: 2, from: 'mal', to: 'vic', kind: 'direct', body: 'fine', sentAt: 1_700_000_000_000 };
  io.on('connection', (socket) => {
    socket.on('login', (_payload, ack: (reply: unknown) => void) => {
      ack({ ok: true, username: 'vic', online: [] });
      socket.emit('message', { ...good, id: 1, sentAt: 'not a time' });
      socket.emit('presence', [{ username: 'mal', online: 'yes', at: 1 }]);
      socket.emit('signedOut', { reason: 'because', message: 'go away' });
      socket.emit('message', good);
    });
    socket.on('received', (_payload, ack?: (reply: unknown) => void) => ack?.({ ok: true, count: 1 }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => io.close(() => resolve(undefined))));

  const client = new ParleyClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { requestTimeoutMs: 3000 });
  t.after(() => client.close());
  const messages: ChatMessage[] = [];
  const problems: ParleyRequestError[] = [];
  let presence = 0;
  let signedOut = 0;
  client.on('message', (m) => messages.push(m));
  client.on('problem', (p) => problems.push(p));
  client.on('presence', () => presence++);
  client.on('signedOut', () => signedOut++);
  await client.connect();
  await client.login('vic', 'pw');

  await eventually(() => messages.length === 1, 3000, 'the well-formed message');
  assert.deepEqual(messages, [good]);
  assert.deepEqual(
    problems.map((p) => /malformed "(\w+)" event/.exec(p.message)?.[1]),
    ['message', 'presence', 'signedOut'],
  );
  assert.match(problems[0]!.message, /sentAt/);
  assert.equal(presence, 0);
  assert.equal(signedOut, 0);
  assert.equal(client.state, 'signed-in', 'a malformed sign-out does not sign the client out');
});
