import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ChatMessage } from '../src/protocol';
import type { HostToWebview, TimelineItem, WebviewToHost } from '../src/view-protocol';
import { openSwitcher, openWebview, type OpenOptions, type WebviewPage } from './helpers/webview-dom';

/** The pages' clock: noon on a fixed day, in the local time zone (a message a minute old is from today). */
const NOW = new Date(2024, 9, 27, 12, 0).getTime();
const FULL_DATE: Intl.DateTimeFormatOptions = { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' };

function message(id: number, from: string, body: string, options: Partial<ChatMessage> = {}): TimelineItem {
  return {
    kind: 'message',
    key: [id, 0],
    message: { id, from, to: options.kind === 'broadcast' ? null : 'alice', kind: 'direct', body, sentAt: NOW - 60_000 + id, ...options },
  };
}

function snapshot(items: TimelineItem[], extra: Partial<Extract<HostToWebview, { type: 'snapshot' }>> = {}): HostToWebview {
  return {
    type: 'snapshot',
    me: 'alice',
    connection: { phase: 'signed-in', username: 'alice', url: 'http://127.0.0.1:4000' },
    conversations: [
      { id: 'everyone', title: 'Everyone', kind: 'everyone', unread: 0, online: false, blocked: false },
      { id: 'dm:bob', title: 'bob', kind: 'direct', unread: 2, online: true, blocked: false },
    ],
    active: 'dm:bob',
    items,
    hasOlder: false,
    usernames: ['bob', 'bella', 'carol'],
    ...extra,
  };
}

function key(page: WebviewPage, name: string, options: Record<string, unknown> = {}): void {
  const input = page.document.querySelector('textarea')!;
  input.dispatchEvent(new page.window.KeyboardEvent('keydown', { key: name, bubbles: true, cancelable: true, ...options }));
}

function type(page: WebviewPage, text: string): void {
  const input = page.document.querySelector('textarea')!;
  input.value = text;
  input.setSelectionRange(text.length, text.length);
  input.dispatchEvent(new page.window.Event('input', { bubbles: true }));
}

/**
 * jsdom lays nothing out (every height is 0, so any list "fits"): give the timeline a viewport and a content
 * height, and a scrollTop that stays within them as a browser's does. Returns a way to scroll it.
 */
function layOut(page: WebviewPage, heights: { view: number; content: number }): (top: number) => void {
  const timeline = page.document.querySelector('.timeline')!;
  let top = 0;
  const clamp = (value: number): number => Math.max(0, Math.min(value, heights.content - heights.view));
  Object.defineProperty(timeline, 'clientHeight', { configurable: true, get: () => heights.view });
  Object.defineProperty(timeline, 'scrollHeight', { configurable: true, get: () => heights.content });
  Object.defineProperty(timeline, 'scrollTop', {
    configurable: true,
    get: () => top,
    set: (value: number) => (top = clamp(value)),
  });
  return (to) => {
    top = clamp(to);
    timeline.dispatchEvent(new page.window.Event('scroll'));
  };
}

describe('chat webview rendering (the real bundle in jsdom)', () => {
  const pages: WebviewPage[] = [];
  const open = async (options: OpenOptions = {}): Promise<WebviewPage> => {
    const page = await openWebview({ now: NOW, ...options });
    pages.push(page);
    return page;
  };
  after(() => pages.forEach((p) => p.close()));

  test('says "ready" first, then renders messages with sender and time, own messages apart, day separators and quiet notices', async () => {
    const page = await open();
    assert.deepEqual(page.posted[0], { type: 'ready' });
    page.send(
      snapshot([
        message(1, 'bob', 'yesterday’s news', { sentAt: new Date(2024, 9, 26, 9, 30).getTime() }),
        message(2, 'bob', 'hi alice'),
        message(3, 'alice', 'hi bob', { to: 'bob' }),
        { kind: 'notice', key: [3, 1], at: NOW, text: 'bob went offline', tone: 'presence' },
      ]),
    );
    const messages = page.all('.message');
    assert.equal(messages.length, 3);
    assert.equal(messages[1]!.querySelector('.from')!.textContent, 'bob');
    const time = messages[1]!.querySelector('time')!;
    assert.match(time.textContent ?? '', /^\d\d:\d\d$/);
    assert.ok(time.getAttribute('datetime'));
    assert.ok(messages[2]!.classList.contains('own'));
    assert.ok(!messages[1]!.classList.contains('own'));
    assert.deepEqual(
      page.all('.day').map((d) => d.textContent),
      ['Yesterday', 'Today'],
    );
    const notice = page.all('.notice.presence');
    assert.equal(notice.length, 1);
    assert.match(notice[0]!.textContent ?? '', /bob went offline/);
    const button = page.document.querySelector('.switcher-button')!;
    assert.equal(button.getAttribute('aria-label'), 'Conversation: bob, online, switch, 2 unread');
    const options = openSwitcher(page);
    assert.deepEqual(
      options.map((o) => [o.dataset.id, o.getAttribute('aria-current')]),
      [
        ['dm:bob', 'true'],
        ['everyone', null],
      ],
      'unread first; the conversation on screen marked',
    );
    assert.match(options[0]!.getAttribute('aria-label') ?? '', /bob, online, 2 unread/);
    assert.deepEqual(page.console, [], 'nothing logged, no jsdom errors');
  });

  test('day separators follow the local calendar in any time zone, just after midnight and on a daylight-saving day', async () => {
    const zone = process.env.TZ;
    try {
      // 27 October 2024: summer time ends in Europe that night; the clock stands 30 s after local midnight.
      for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham']) {
        process.env.TZ = tz;
        const at = (day: number, hours: number, minutes: number, seconds = 0): number =>
          new Date(2024, 9, day, hours, minutes, seconds).getTime();
        const page = await open({ now: at(27, 0, 0, 30) });
        page.send(
          snapshot([
            message(1, 'bob', 'two days ago', { sentAt: at(25, 9, 0) }),
            message(2, 'bob', 'late last night', { sentAt: at(26, 23, 59, 50) }),
            message(3, 'bob', 'just after midnight', { sentAt: at(27, 0, 0, 10) }),
            message(4, 'alice', 'me too', { sentAt: at(27, 0, 0, 20), to: 'bob' }),
          ]),
        );
        assert.deepEqual(
          page.all('.day').map((d) => d.textContent),
          [new Date(at(25, 9, 0)).toLocaleDateString(undefined, FULL_DATE), 'Yesterday', 'Today'],
          tz,
        );
        assert.deepEqual(
          page.all('.message time').map((t) => t.textContent),
          ['09:00', '23:59', '00:00', '00:00'],
          tz,
        );
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  test('items out of time order: a day that comes back gets a separator again, and the separators stay put', async () => {
    const page = await open();
    const yesterday = new Date(2024, 9, 26, 18, 0).getTime();
    page.send(
      snapshot([
        message(1, 'bob', 'evening', { sentAt: yesterday }),
        message(2, 'bob', 'morning', { sentAt: NOW - 60_000 }),
        message(3, 'bob', 'late, from a slow clock', { sentAt: yesterday + 60_000 }),
      ]),
    );
    const separators = page.all('.day');
    assert.deepEqual(
      separators.map((d) => d.textContent),
      ['Yesterday', 'Today', 'Yesterday'],
    );
    page.send({ type: 'items', conversation: 'dm:bob', items: [message(4, 'bob', 'now')], live: true });
    const after = page.all('.day');
    assert.deepEqual(
      after.map((d) => d.textContent),
      ['Yesterday', 'Today', 'Yesterday', 'Today'],
    );
    separators.forEach((node, i) => assert.equal(after[i], node, 'the same separator'));
  });

  test('hostile message text is inert: no script, no handler attribute, no javascript: link, no raw HTML', async () => {
    const page = await open();
    const hostile = [
      '<script>window.__pwned = 1</script>',
      '<img src=x onerror="window.__pwned = 2">',
      '[x](javascript:alert(1))',
      '[y](JaVaScRiPt:window.__pwned=3)',
      '<a href="javascript:window.__pwned=4">z</a>',
      '<iframe src="https://evil.example/"></iframe>',
      '<b onmouseover="window.__pwned=5">bold</b>',
      '![pixel](https://evil.example/track.png)',
      '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '<style>body { display: none }</style>',
      '[v](vbscript:msgbox(1))',
      '<svg onload="window.__pwned=6"></svg>',
    ];
    page.send(
      snapshot([
        ...hostile.map((body, i) => message(i + 1, 'mallory', body)),
        { kind: 'notice', key: [20, 1], at: NOW, text: '<img src=x onerror="window.__pwned=7">', tone: 'error' },
      ]),
    );
    const app = page.document.getElementById('app')!;
    assert.equal(app.querySelectorAll('script, img, iframe, style, svg, object, embed').length, 0);
    for (const element of app.querySelectorAll('*')) {
      for (const attribute of element.attributes) {
        assert.ok(!/^on/i.test(attribute.name), `${element.tagName} has ${attribute.name}`);
        assert.ok(!/^\s*(javascript|vbscript|data):/i.test(attribute.value), `${element.tagName}[${attribute.name}] = ${attribute.value}`);
      }
    }
    for (const a of app.querySelectorAll('.body a')) assert.match(a.getAttribute('href') ?? '', /^https?:/);
    // What was typed is shown, as text.
    const bodies = page.all('.message .body').map((b) => b.textContent ?? '');
    assert.ok(bodies[0]!.includes('<script>window.__pwned = 1</script>'));
    assert.ok(bodies[1]!.includes('<img src=x onerror='));
    // Poke everything: nothing runs.
    for (const element of app.querySelectorAll('*')) {
      for (const event of ['click', 'mouseover', 'error', 'load', 'focus'])
        element.dispatchEvent(new page.window.Event(event, { bubbles: true }));
    }
    assert.equal((page.window as unknown as { __pwned?: number }).__pwned, undefined);
    // Clicking what looks like a link posts nothing unsafe.
    assert.ok(page.posted.every((m) => m.type !== 'openLink' || /^https?:/.test(m.href)));
  });

  test('markdown renders code blocks, inline code and links; a click on a link asks the extension to open it', async () => {
    const page = await open();
    page.send(
      snapshot([
        message(1, 'bob', 'look at `x` and https://example.com/docs\n\n```ts\nconst a = 1 < 2;\n```'),
        message(2, 'bob', '[src/app.ts:3-5](src/app.ts#L3-L5)\n```ts\nfoo()\n```'),
      ]),
    );
    const pre = page.all('.message pre code');
    assert.equal(pre.length, 2);
    assert.equal(pre[0]!.className, 'language-ts');
    assert.equal(pre[0]!.textContent, 'const a = 1 < 2;\n');
    assert.equal(page.all('.message p > code')[0]!.textContent, 'x');
    const web = page.all('a.web-link')[0] as HTMLAnchorElement;
    assert.equal(web.getAttribute('href'), 'https://example.com/docs');
    web.dispatchEvent(new page.window.MouseEvent('click', { bubbles: true, cancelable: true }));
    assert.deepEqual(page.posted.at(-1), { type: 'openLink', href: 'https://example.com/docs' });
    const location = page.all('a.location-link')[0] as HTMLAnchorElement;
    assert.equal(location.textContent, 'src/app.ts:3-5');
    location.dispatchEvent(new page.window.MouseEvent('click', { bubbles: true, cancelable: true }));
    assert.deepEqual(page.posted.at(-1), { type: 'openLink', href: 'src/app.ts#L3-L5' });
  });

  test('10,000 messages build a bounded number of DOM nodes, newest first in view; scrolling up slides the window', async () => {
    const page = await open();
    const many = Array.from({ length: 10_000 }, (_, i) => message(i + 1, i % 2 ? 'bob' : 'alice', `message number ${i + 1}`));
    page.send(snapshot(many, { hasOlder: true }));
    const rendered = page.all('.message');
    assert.ok(rendered.length <= 150, `${rendered.length} message elements`);
    assert.ok(page.document.querySelectorAll('#app *').length < 2000, 'the whole page stays small');
    assert.equal(rendered.at(-1)!.getAttribute('data-key'), '10000:0');
    const timeline = page.document.querySelector('.timeline')!;
    timeline.dispatchEvent(new page.window.Event('scroll'));
    const after = page.all('.message');
    assert.ok(after.length <= 150);
    assert.ok(Number(after[0]!.getAttribute('data-key')!.split(':')[0]) < Number(rendered[0]!.getAttribute('data-key')!.split(':')[0]));
    // The messages still in the window are the same elements: only those that came into it were built.
    const stayed = after.filter((node) => rendered.includes(node));
    assert.ok(stayed.length >= 50, `${stayed.length} elements kept`);
    assert.deepEqual(
      stayed.map((n) => n.getAttribute('data-key')),
      rendered
        .filter((n) => after.some((a) => a.getAttribute('data-key') === n.getAttribute('data-key')))
        .map((n) => n.getAttribute('data-key')),
    );
    // A live message while scrolled up does not jump; a button offers the newest.
    page.send({ type: 'items', conversation: 'dm:bob', items: [message(10_001, 'bob', 'new!')], live: true });
    assert.ok(page.all('.message').length <= 150);
    assert.equal((page.document.querySelector('.jump') as HTMLElement).hidden, false);
  });

  test('scrolling to the top asks once for older messages (not while a request is in flight, not elsewhere), and asks again for the next page', async () => {
    const page = await open();
    const scrollTo = layOut(page, { view: 300, content: 2000 });
    const asked = (): WebviewToHost[] => page.posted.filter((m) => m.type === 'loadOlder');
    page.send(snapshot([message(50, 'bob', 'fifty'), message(51, 'bob', 'fifty-one')], { hasOlder: true }));
    assert.equal(page.document.querySelector('.timeline')!.scrollTop, 1700, 'the newest is in view');
    assert.deepEqual(asked(), [], 'the list does not fit: nothing is asked for until the user scrolls up');
    scrollTo(1000);
    scrollTo(400);
    assert.deepEqual(asked(), [], 'not at the top yet');
    scrollTo(0);
    assert.deepEqual(asked(), [{ type: 'loadOlder', conversation: 'dm:bob', before: [50, 0] }]);
    assert.match(page.document.querySelector('.older')!.textContent ?? '', /Loading older/);
    scrollTo(10);
    scrollTo(0);
    assert.equal(asked().length, 1, 'no second request while the first is in flight');
    page.send({ type: 'items', conversation: 'dm:bob', items: [message(30, 'bob', 'thirty'), message(40, 'bob', 'forty')], live: false });
    assert.deepEqual(
      page.all('.message .body').map((b) => b.textContent?.trim()),
      ['thirty', 'forty', 'fifty', 'fifty-one'],
    );
    scrollTo(0);
    assert.deepEqual(
      asked().at(-1),
      { type: 'loadOlder', conversation: 'dm:bob', before: [30, 0] },
      'the next page, before the oldest now loaded',
    );
    assert.equal(asked().length, 2);
  });

  test('a list that does not fill the view asks for older messages at once, and they are merged in order', async () => {
    const page = await open();
    page.send(snapshot([message(50, 'bob', 'fifty'), message(51, 'bob', 'fifty-one')], { hasOlder: true }));
    const ask = page.posted.find((m) => m.type === 'loadOlder');
    assert.deepEqual(ask, { type: 'loadOlder', conversation: 'dm:bob', before: [50, 0] });
    page.send({
      type: 'items',
      conversation: 'dm:bob',
      items: [message(10, 'bob', 'ten'), message(20, 'bob', 'twenty')],
      hasOlder: false,
      live: false,
    });
    assert.deepEqual(
      page.all('.message .body').map((b) => b.textContent?.trim()),
      ['ten', 'twenty', 'fifty', 'fifty-one'],
    );
    assert.match(page.document.querySelector('.older')!.textContent ?? '', /beginning/);
  });

  test('composer: Enter sends, Shift+Enter does not, nor Enter while composing; a failed send gives the text back', async () => {
    const page = await open();
    page.send(snapshot([]));
    const input = page.document.querySelector('textarea')!;
    type(page, 'first line');
    key(page, 'Enter', { shiftKey: true });
    assert.equal(page.posted.filter((m) => m.type === 'send').length, 0);
    assert.equal(input.value, 'first line');
    key(page, 'Enter', { isComposing: true });
    assert.equal(page.posted.filter((m) => m.type === 'send').length, 0);
    type(page, 'first line\nsecond line');
    key(page, 'Enter');
    const sent = page.posted.filter((m) => m.type === 'send');
    assert.deepEqual(sent, [{ type: 'send', requestId: 1, conversation: 'dm:bob', text: 'first line\nsecond line' }]);
    assert.equal(input.value, '');
    page.send({ type: 'sendResult', requestId: 1, ok: false, error: 'You have blocked bob; unblock them to send a message.' });
    assert.equal(input.value, 'first line\nsecond line');
    assert.match(page.document.querySelector('.composer-error')!.textContent ?? '', /blocked bob/);
  });

  test('completion of "/" commands and usernames; Tab accepts; Enter sends unless a suggestion was picked', async () => {
    const page = await open();
    page.send(snapshot([]));
    const input = page.document.querySelector('textarea')!;
    const shown = (): boolean => !(page.document.querySelector('.completions') as HTMLElement).hidden;
    type(page, 'who');
    assert.equal(shown(), false, 'plain text is a message: no commands offered');
    type(page, '/who');
    const labels = page.all('.completions li .label').map((l) => l.textContent);
    assert.deepEqual(labels, ['/whoelse', '/wholast <minutes>']);
    key(page, 'Tab');
    assert.equal(input.value, '/whoelse');
    assert.equal(shown(), false);

    type(page, 'message b');
    assert.equal(shown(), false);
    type(page, '/message b');
    assert.deepEqual(
      page.all('.completions li .label').map((l) => l.textContent),
      ['bob', 'bella'],
    );
    key(page, 'ArrowDown');
    key(page, 'Enter');
    assert.equal(input.value, '/message bella ');
    assert.equal(page.posted.filter((m) => m.type === 'send').length, 0);

    type(page, 'hey @ca');
    key(page, 'Tab');
    assert.equal(input.value, 'hey @carol ');

    type(page, '/he');
    assert.equal(page.all('.completions li').length, 1, 'help is offered');
    key(page, 'Enter');
    assert.equal(page.posted.filter((m) => m.type === 'send').at(-1)?.text, '/he', 'Enter sends what was typed');
  });

  test('the placeholder and the tooltip say that commands start with "/"', async () => {
    const page = await open();
    page.send(snapshot([]));
    const input = page.document.querySelector('textarea')!;
    assert.equal(input.placeholder, 'Message bob — / for commands');
    assert.match(input.title, /"\/help" lists the commands/);
    page.send({ type: 'timeline', conversation: 'everyone', items: [], hasOlder: false });
    assert.equal(input.placeholder, 'Message everyone online — / for commands');
    // A channel's message goes to its members, not to everyone online.
    page.send({ type: 'timeline', conversation: 'channel:general', items: [], hasOlder: false });
    assert.equal(input.placeholder, 'Message #general — / for commands');
  });

  test('connection states: a reconnecting banner, and a signed-out screen with actions', async () => {
    const page = await open();
    page.send(snapshot([message(1, 'bob', 'hi')]));
    const banner = page.document.querySelector('.banner') as HTMLElement;
    assert.equal(banner.hidden, true);
    page.send({
      type: 'connection',
      me: 'alice',
      connection: { phase: 'reconnecting', username: 'alice', message: 'Connection lost; reconnecting…' },
    });
    assert.equal(banner.hidden, false);
    assert.match(banner.textContent ?? '', /reconnecting/);
    // The banner is a status region: the same news again is not written (and read out) again.
    const said = [...banner.childNodes];
    page.send({
      type: 'connection',
      me: 'alice',
      connection: { phase: 'reconnecting', username: 'alice', message: 'Connection lost; reconnecting…' },
    });
    said.forEach((node, i) => assert.equal(banner.childNodes[i], node, 'the same node'));
    assert.equal(page.document.querySelector('textarea')!.disabled, false, 'typing goes on while reconnecting');
    page.send({
      type: 'connection',
      connection: { phase: 'signed-out', message: 'You were signed out after 30 minutes without activity.' },
    });
    const welcome = page.document.querySelector('.welcome') as HTMLElement;
    assert.equal(welcome.hidden, false);
    assert.match(welcome.textContent ?? '', /without activity/);
    assert.equal(page.document.querySelector('textarea')!.disabled, true);
    (welcome.querySelector('button') as HTMLButtonElement).click();
    assert.deepEqual(page.posted.at(-1), { type: 'action', action: 'connect' });
  });

  test('a new message is announced once, by the live region alone, and the elements already shown are kept', async () => {
    const page = await open();
    page.send(
      snapshot([
        message(10, 'bob', 'hi alice'),
        message(11, 'alice', 'hi bob', { to: 'bob' }),
        { kind: 'notice', key: [11, 1], at: NOW, text: 'bob is not online; they will get it when they sign in', tone: 'error' },
      ]),
    );
    const live = page.document.querySelector('.sr-only[aria-live="polite"]')!;
    const announced: string[] = [];
    const observer = new page.window.MutationObserver(() => announced.push(live.textContent ?? ''));
    observer.observe(live, { childList: true, characterData: true, subtree: true });
    const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
    const shown = (): Element[] => page.all('.items > *');
    const before = shown();

    page.send({ type: 'items', conversation: 'dm:bob', items: [message(12, 'bob', 'are you there?')], live: true });
    await settle();
    assert.deepEqual(announced, ['bob: are you there?']);
    const after = shown();
    assert.equal(after.length, before.length + 1);
    before.forEach((node, i) => assert.equal(after[i], node, `element ${i} is the same one`));
    assert.match(after.at(-1)!.textContent ?? '', /are you there\?/);
    // Nothing else on the page that a screen reader watches holds the message: it is not read a second time.
    const watched =
      '[aria-live]:not([aria-live="off"]), [role="log"], [role="status"], [role="alert"], [role="marquee"], [role="timer"], output';
    const holders = [...page.document.querySelectorAll(watched)].filter((r) => r.textContent?.includes('are you there?'));
    assert.ok(holders.length === 1 && holders[0] === live, `${holders.length} live regions hold the message`);
    assert.equal(after.at(-1)!.closest(watched), null, 'the timeline is not a live region');

    // The same message again, one's own message, and a page of older ones: nothing is announced, nothing rebuilt.
    page.send({ type: 'items', conversation: 'dm:bob', items: [message(12, 'bob', 'are you there?')], live: true });
    page.send({ type: 'items', conversation: 'dm:bob', items: [message(13, 'alice', 'yes', { to: 'bob' })], live: true });
    page.send({ type: 'items', conversation: 'dm:bob', items: [message(5, 'bob', 'long ago')], live: false });
    await settle();
    assert.deepEqual(announced, ['bob: are you there?']);
    const later = shown();
    assert.ok(
      after.every((node) => later.includes(node)),
      'the elements shown before are still there',
    );
    assert.deepEqual(
      page.all('.message .body').map((b) => b.textContent?.trim()),
      ['long ago', 'hi alice', 'hi bob', 'are you there?', 'yes'],
    );

    // An error that arrives is announced once too (the notice itself is no alert).
    page.send({
      type: 'items',
      conversation: 'dm:bob',
      items: [{ kind: 'notice', key: [13, 1], at: NOW, text: 'Not sent.', tone: 'error' }],
      live: true,
    });
    await settle();
    assert.deepEqual(announced, ['bob: are you there?', 'Not sent.']);
    assert.equal(page.document.querySelectorAll('#app .notice[role="alert"]').length, 0);
    observer.disconnect();
  });

  test('the conversation switcher: arrows move the highlight, Enter opens, Escape closes, Ctrl/Cmd+K opens it again', async () => {
    const page = await open();
    page.send(
      snapshot([], {
        conversations: [
          { id: 'everyone', title: 'Everyone', kind: 'everyone', unread: 0, online: false, blocked: false },
          { id: 'dm:bob', title: 'bob', kind: 'direct', unread: 0, online: true, blocked: false },
          { id: 'dm:carol', title: 'carol', kind: 'direct', unread: 1, online: false, blocked: false },
        ],
      }),
    );
    const doc = page.document;
    const button = doc.querySelector<HTMLButtonElement>('.switcher-button')!;
    const filter = doc.querySelector<HTMLInputElement>('.switcher-filter')!;
    const highlighted = (): string | undefined => doc.getElementById(filter.getAttribute('aria-activedescendant') ?? '')?.dataset.id;
    const press = (name: string, options: KeyboardEventInit = {}): void => {
      doc.activeElement!.dispatchEvent(
        new page.window.KeyboardEvent('keydown', { key: name, bubbles: true, cancelable: true, ...options }),
      );
    };
    const selects = (): string[] => page.posted.flatMap((m) => (m.type === 'select' ? [m.conversation] : []));
    const selected = (id: string): void => page.send({ type: 'timeline', conversation: id, items: [], hasOlder: false });
    const isOpen = (): boolean => button.getAttribute('aria-expanded') === 'true';

    assert.equal(isOpen(), false);
    assert.equal(button.getAttribute('aria-haspopup'), 'listbox');
    assert.equal(doc.querySelectorAll('#app [role="option"]').length, 0, 'no list is built while closed');
    assert.deepEqual(
      openSwitcher(page).map((o) => o.dataset.id),
      ['dm:carol', 'everyone', 'dm:bob'],
    );
    assert.equal(doc.activeElement, filter, 'the filter box takes the focus');
    assert.equal(filter.getAttribute('role'), 'combobox');
    assert.equal(doc.getElementById(filter.getAttribute('aria-controls')!)!.getAttribute('role'), 'listbox');
    assert.equal(highlighted(), 'dm:carol', 'the first option is highlighted');
    press('ArrowDown');
    assert.equal(highlighted(), 'everyone');
    assert.equal(
      doc.querySelector('[aria-selected="true"]')!.getAttribute('data-id'),
      'everyone',
      'one option selected: the highlighted one',
    );
    assert.equal(doc.querySelectorAll('[aria-selected="true"]').length, 1);
    press('ArrowUp');
    press('ArrowUp');
    assert.equal(highlighted(), 'dm:bob', 'wraps around backwards');
    press('ArrowDown');
    assert.equal(highlighted(), 'dm:carol', 'and forwards');
    press('Enter');
    assert.deepEqual(selects(), ['dm:carol']);
    assert.equal(isOpen(), false, 'a choice closes the list');
    assert.equal(doc.activeElement, doc.querySelector('textarea'), 'and the composer takes the focus');
    selected('dm:carol');
    assert.equal(button.dataset.current, 'dm:carol');

    // Ctrl+K (Cmd+K on macOS) opens it from anywhere in the view; Escape closes it and gives the focus back. Neither
    // reaches the window, where VS Code listens for the keys of its own shortcuts (Ctrl+K starts its chords).
    const heard: string[] = [];
    page.window.addEventListener('keydown', (e) => heard.push(e.key));
    press('k', { ctrlKey: true });
    assert.equal(isOpen(), true);
    assert.equal(doc.activeElement, filter);
    press('Escape');
    assert.equal(isOpen(), false);
    assert.equal(doc.activeElement, doc.querySelector('textarea'), 'the focus goes back where it was');
    assert.deepEqual(heard, []);
    press('k', { metaKey: true });
    assert.equal(isOpen(), true);
    press('Enter');
    assert.deepEqual(selects(), ['dm:carol'], 'the conversation on screen is not asked for again');
    press('a');
    assert.equal(selects().length, 1, 'other keys choose nothing');
    assert.deepEqual(heard, ['Enter', 'a'], 'other keys reach the window as before');

    // The button toggles the list; a click on an option chooses it.
    button.click();
    assert.equal(isOpen(), true);
    button.click();
    assert.equal(isOpen(), false);
    openSwitcher(page)
      .find((o) => o.dataset.id === 'everyone')!
      .click();
    assert.deepEqual(selects(), ['dm:carol', 'everyone']);
  });

  test('new messages from others are announced in an aria-live region; malformed host messages are ignored', async () => {
    const page = await open();
    page.send(snapshot([]));
    page.send({ type: 'items', conversation: 'dm:bob', items: [message(7, 'bob', 'are you there?')], live: true });
    const live = page.document.querySelector('[aria-live="polite"]')!;
    assert.equal(live.textContent, 'bob: are you there?');
    const before = page.document.getElementById('app')!.innerHTML;
    for (const bad of [
      null,
      { type: 'items' },
      { type: 'snapshot', items: 'x' },
      { type: 'items', conversation: 'dm:bob', items: [{ kind: 'html', html: '<b>' }], live: true },
    ]) {
      page.send(bad);
    }
    assert.equal(page.document.getElementById('app')!.innerHTML, before);
    assert.equal(page.console.filter((l) => /ignored a malformed message/.test(l)).length, 4);
  });

  test('drafts and the conversation on screen survive the page being discarded (getState/setState)', async () => {
    const page = await open();
    page.send(snapshot([]));
    type(page, 'half-written thought');
    const saved = page.state();
    const again = await open({ state: saved });
    assert.deepEqual(again.posted[0], { type: 'ready', active: 'dm:bob' });
    again.send(snapshot([]));
    assert.equal(again.document.querySelector('textarea')!.value, 'half-written thought');
  });
});
