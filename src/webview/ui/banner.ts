import type { ConnectionView, HostAction, PrivateState } from '../../view-protocol';
import { el } from './dom';

export const PRIVATE_STATE_WORDS: Record<PrivateState, string> = {
  connecting: 'connecting…',
  direct: 'direct, encrypted',
  closed: 'closed',
};

/**
 * What the connection is doing: a banner while connecting, reconnecting or left with private chats only, and
 * the welcome with its two actions while signed out. The banner is a status region: written only when it changes.
 */
export class ConnectionBanner {
  readonly banner: HTMLElement;
  readonly welcome: HTMLElement;
  private readonly welcomeText: HTMLElement;
  private shows = '';

  constructor(
    private readonly doc: Document,
    act: (action: HostAction) => void,
  ) {
    this.banner = el(doc, 'div', { class: 'banner', attrs: { role: 'status' } });
    this.banner.hidden = true;
    this.welcomeText = el(doc, 'p', { class: 'welcome-text' });
    const action = (name: HostAction, label: string, icon: string): HTMLButtonElement => {
      const button = el(
        doc,
        'button',
        { class: 'action', attrs: { type: 'button' } },
        el(doc, 'span', { class: `codicon codicon-${icon}`, attrs: { 'aria-hidden': 'true' } }),
        el(doc, 'span', { text: ` ${label}` }),
      );
      button.addEventListener('click', () => act(name));
      return button;
    };
    this.welcome = el(
      doc,
      'section',
      { class: 'welcome', attrs: { 'aria-label': 'Not connected' } },
      el(doc, 'h2', { text: 'Parley' }),
      this.welcomeText,
      action('connect', 'Connect to Server…', 'plug'),
      action('startLocalServer', 'Start Local Server', 'server-process'),
    );
    this.welcome.hidden = true;
  }

  render({ phase, message, url }: ConnectionView): void {
    const banner = this.banner;
    const showing = phase === 'reconnecting' || phase === 'connecting' || phase === 'private-only';
    banner.hidden = !showing;
    banner.className = showing ? `banner ${phase}` : 'banner';
    const words = !showing
      ? ''
      : phase === 'connecting'
        ? `Connecting to ${url ?? 'the server'}…`
        : phase === 'private-only'
          ? (message ?? 'Signed out; private chats stay open.')
          : (message ?? 'Connection lost; reconnecting…');
    // Nothing is on its way while only private chats are left: a lock, not a spinner.
    const icon = phase === 'private-only' ? 'codicon codicon-lock' : 'codicon codicon-sync codicon-modifier-spin';
    if (this.shows !== `${icon}\n${words}`) {
      this.shows = `${icon}\n${words}`;
      banner.replaceChildren();
      if (showing)
        banner.append(el(this.doc, 'span', { class: icon, attrs: { 'aria-hidden': 'true' } }), el(this.doc, 'span', { text: ` ${words}` }));
    }
    this.welcome.hidden = phase !== 'signed-out';
    this.welcomeText.textContent = message ?? 'Not connected. Join a Parley server, or start one on this machine for your team.';
  }
}
