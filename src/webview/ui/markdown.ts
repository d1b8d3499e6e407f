import MarkdownIt from 'markdown-it';
import { classifyLink, isAllowedHref } from '../../view-protocol';

/**
 * Message bodies as markdown, made safe twice: markdown-it with raw HTML off (so `<script>` is text)
 * and only web and workspace links allowed; then what it produced is parsed into an inert
 * <template> and walked with an allow-list of elements and attributes before it reaches the page.
 */

const ALLOWED: Record<string, readonly string[]> = {
  P: [],
  BR: [],
  EM: [],
  STRONG: [],
  S: [],
  DEL: [],
  CODE: ['class'],
  PRE: [],
  BLOCKQUOTE: [],
  UL: [],
  OL: ['start'],
  LI: [],
  A: ['href'],
  H1: [],
  H2: [],
  H3: [],
  H4: [],
  H5: [],
  H6: [],
  HR: [],
  TABLE: [],
  THEAD: [],
  TBODY: [],
  TR: [],
  TH: [],
  TD: [],
};

export interface MarkdownRenderer {
  /** A fragment of safe elements for one message body. */
  render(body: string): DocumentFragment;
}

export function createMarkdown(doc: Document): MarkdownRenderer {
  const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
  md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });
  md.disable(['image']);
  md.validateLink = (url: string): boolean => isAllowedHref(url);

  return {
    render(body: string): DocumentFragment {
      const template = doc.createElement('template');
      template.innerHTML = md.render(body);
      sanitize(template.content, doc);
      return template.content;
    },
  };
}

/** Removes every element and attribute not on the allow-list; unknown elements keep their text. */
export function sanitize(root: ParentNode, doc: Document): void {
  for (const node of [...root.childNodes]) {
    if (node.nodeType === 3) continue; // text
    if (node.nodeType !== 1) {
      node.parentNode?.removeChild(node);
      continue;
    }
    const element = node as Element;
    const allowed = Object.hasOwn(ALLOWED, element.tagName) ? ALLOWED[element.tagName] : undefined;
    if (!allowed) {
      // Keep what it says, as text; drop the element itself (and everything it could do).
      const text = doc.createTextNode(element.textContent ?? '');
      element.replaceWith(text);
      continue;
    }
    for (const attribute of [...element.attributes]) {
      if (!allowed.includes(attribute.name)) element.removeAttribute(attribute.name);
    }
    if (element.tagName === 'A') {
      const href = element.getAttribute('href') ?? '';
      const target = classifyLink(href);
      if (target.kind === 'refused') {
        element.replaceWith(doc.createTextNode(element.textContent ?? ''));
        continue;
      }
      element.setAttribute('title', target.kind === 'location' ? `Open ${target.path}:${target.line}` : href);
      element.classList.add(target.kind === 'location' ? 'location-link' : 'web-link');
    }
    if (element.tagName === 'CODE') {
      const cls = element.getAttribute('class');
      if (cls !== null && !/^language-[A-Za-z0-9_+-]+$/.test(cls)) element.removeAttribute('class');
    }
    sanitize(element, doc);
  }
}
