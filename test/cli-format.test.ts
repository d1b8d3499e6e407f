import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatBroadcast } from '../src/client/sentences';

describe('formatBroadcast', () => {
  test('names the users whose queue was full, and says nothing of it when there were none', () => {
    assert.equal(
      formatBroadcast({ delivered: 1, skipped: 2, queueFull: ['bob'] }, true),
      'Broadcast sent to 1 user; some users could not receive it (2): bob has too many of your messages waiting.',
    );
    assert.equal(
      formatBroadcast({ delivered: 0, skipped: 2, queueFull: ['bob', 'carol'] }, true),
      'Broadcast not delivered; some users could not receive it (2): bob, carol have too many of your messages waiting.',
    );
    assert.equal(
      formatBroadcast({ delivered: 2, skipped: 1, queueFull: [] }, true),
      'Broadcast sent to 2 users; some users could not receive it (1).',
    );
    assert.equal(formatBroadcast({ delivered: 2, skipped: 0 }, false), 'Broadcast sent to 2 users.');
  });
});
