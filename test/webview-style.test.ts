import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

// media/chat.css read as rules (selector list and declarations): enough to check what high contrast themes rely on.
// jsdom lays nothing out and resolves no var(), so this reads the stylesheet rather than the page.

interface Rule {
  selectors: string[];
  declarations: Map<string, string>;
}

function parseRules(css: string): Rule[] {
  const rules: Rule[] = [];
  // Innermost blocks only: an @media block's rules are found, its own prelude is skipped.
  for (const [, prelude, body] of css.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    const declarations = new Map<string, string>();
    for (const declaration of body!.split(';')) {
      const colon = declaration.indexOf(':');
      if (colon > 0) declarations.set(declaration.slice(0, colon).trim(), declaration.slice(colon + 1).trim());
    }
    rules.push({ selectors: prelude!.split(',').map((s) => s.trim().replace(/\s+/g, ' ')), declarations });
  }
  return rules;
}

const rules = parseRules(readFileSync('media/chat.css', 'utf8'));

/** What the last rule naming exactly this selector declares for a property. */
function declared(selector: string, property: string): string | undefined {
  return rules
    .filter((r) => r.selectors.includes(selector) && r.declarations.has(property))
    .at(-1)
    ?.declarations.get(property);
}

const HIGH_CONTRAST = ['body.vscode-high-contrast', 'body.vscode-high-contrast-light'];

describe('chat view styles (media/chat.css)', () => {
  test('a focus ring in the theme’s focus colour, and outlines used for nothing else', () => {
    assert.match(declared(':focus-visible', 'outline') ?? '', /^1px solid var\(--vscode-focusBorder\)$/);
    assert.match(declared('.input:focus', 'outline') ?? '', /var\(--vscode-focusBorder\)/);
    for (const rule of rules) {
      if (!rule.declarations.has('outline')) continue;
      for (const selector of rule.selectors)
        assert.match(selector, /:focus/, `${selector} sets an outline, which would hide or mimic the focus ring`);
    }
  });

  test('high contrast (dark and light): borders where other themes use backgrounds, and the focus ring outside the selection', () => {
    const expectations: [string, string, RegExp][] = [
      ['.conversation.active', 'border', /solid var\(--vscode-contrastActiveBorder\)/],
      ['.conversation:hover', 'border', /dashed var\(--vscode-contrastActiveBorder\)/],
      ['.switcher-button:focus-visible', 'outline', /solid var\(--vscode-focusBorder\)/],
      ['.switcher-button:focus-visible', 'outline-offset', /^[1-9]\d*px$/],
      ['.message.own', 'border', /var\(--vscode-contrastBorder\)/],
      ['.unread', 'border', /var\(--vscode-contrastBorder\)/],
      ['.mentions', 'border', /var\(--vscode-contrastBorder\)/],
      ['.body pre', 'border', /var\(--vscode-contrastBorder\)/],
      ['.completions li.selected', 'border', /var\(--vscode-contrastActiveBorder\)/],
      ['.switcher', 'border-color', /var\(--vscode-contrastBorder\)/],
      ['.switcher-popup', 'border-color', /var\(--vscode-contrastBorder\)/],
      ['.composer', 'border-color', /var\(--vscode-contrastBorder\)/],
    ];
    for (const theme of HIGH_CONTRAST) {
      for (const [selector, property, value] of expectations) {
        assert.match(declared(`${theme} ${selector}`, property) ?? '(none)', value, `${theme} ${selector} { ${property} }`);
      }
    }
    // Every high contrast rule is there for both themes.
    const dark = rules.flatMap((r) => r.selectors).filter((s) => s.startsWith(`${HIGH_CONTRAST[0]} `));
    const light = rules.flatMap((r) => r.selectors).filter((s) => s.startsWith(`${HIGH_CONTRAST[1]} `));
    assert.deepEqual(
      light.map((s) => s.slice(HIGH_CONTRAST[1]!.length)),
      dark.map((s) => s.slice(HIGH_CONTRAST[0]!.length)),
    );
  });

  test('the one-row composer keeps its placeholder on that row (a long one is cut, not wrapped out of sight)', () => {
    assert.equal(declared('.input::placeholder', 'white-space'), 'nowrap');
    assert.equal(declared('.input::placeholder', 'overflow'), 'hidden');
  });

  test('no spinning when the editor or the system asks for reduced motion', () => {
    assert.equal(declared('body.vscode-reduce-motion .codicon-modifier-spin', 'animation'), 'none');
    assert.match(
      readFileSync('media/chat.css', 'utf8'),
      /@media \(prefers-reduced-motion: reduce\) \{\s*\.codicon-modifier-spin \{\s*animation: none;\s*\}\s*\}/,
    );
  });
});
