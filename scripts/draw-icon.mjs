#!/usr/bin/env node
// Draws the extension's 128x128 Marketplace icon, media/icon.png, from the activity bar's glyph (media/parley.svg):
// the glyph in white on a rounded square, rendered by headless Chromium. The PNG is committed; run this again after
// changing the glyph. Usage: node scripts/draw-icon.mjs [--chromium PATH]   (default: chromium on PATH)
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SIZE = 128;
/** The colours of the square, top left to bottom right; the Marketplace banner (galleryBanner) takes the first. */
const FROM = '#1d4f91';
const TO = '#127a7a';

const glyph = readFileSync('media/parley.svg', 'utf8')
  .replace('width="24" height="24"', 'x="16" y="16" width="96" height="96"')
  .replace('stroke="currentColor"', 'stroke="#ffffff"')
  .replace('stroke-width="1.5"', 'stroke-width="1.6"');
if (!glyph.includes('x="16"') || !glyph.includes('#ffffff'))
  throw new Error('media/parley.svg is not the 24x24 stroked glyph this expects');

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">
  <defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${FROM}"/><stop offset="1" stop-color="${TO}"/></linearGradient></defs>
  <rect width="${SIZE}" height="${SIZE}" rx="26" fill="url(#bg)"/>
  ${glyph}
</svg>`;
// Headless Chromium's window is never narrower than 500 pixels, so rather than a screenshot the page draws the SVG on
// a canvas of the icon's size and prints it as a PNG data URL, which --dump-dom hands over.
const page = `<!doctype html><html><body><script>
const image = new Image();
image.onload = () => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = ${SIZE};
  canvas.getContext('2d').drawImage(image, 0, 0, ${SIZE}, ${SIZE});
  document.body.textContent = canvas.toDataURL('image/png');
};
image.src = 'data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}';
</script></body></html>`;

const chromiumFlag = process.argv.indexOf('--chromium');
const chromium = chromiumFlag >= 0 ? process.argv[chromiumFlag + 1] : 'chromium';
const dir = mkdtempSync(join(tmpdir(), 'parley-icon-'));
const out = resolve('media/icon.png');
try {
  writeFileSync(join(dir, 'icon.html'), page);
  const result = spawnSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      // Lets the image load and the canvas draw before the page is dumped.
      '--virtual-time-budget=5000',
      `--user-data-dir=${join(dir, 'profile')}`,
      '--dump-dom',
      `file://${join(dir, 'icon.html')}`,
    ],
    { encoding: 'utf8' },
  );
  const dataUrl = /data:image\/png;base64,([A-Za-z0-9+/=]+)/.exec(result.stdout ?? '');
  if (result.status !== 0 || !dataUrl)
    throw new Error(`${chromium} drew nothing (${result.error?.message ?? result.status}):\n${result.stderr}`);
  writeFileSync(out, Buffer.from(dataUrl[1], 'base64'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const png = readFileSync(out);
const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
if (width !== SIZE || height !== SIZE) throw new Error(`${out} is ${width}x${height}, not ${SIZE}x${SIZE}`);
console.log(`${out}: ${SIZE}x${SIZE}, ${png.length} bytes`);
