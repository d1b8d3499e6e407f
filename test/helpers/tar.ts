import { gunzipSync } from 'node:zlib';

/** One file of a tar archive. */
export interface TarEntry {
  name: string;
  mode: number;
  data: Buffer;
}

const BLOCK = 512;

/**
 * Reads the regular files of a gzipped ustar archive, such as `npm pack` writes (no pax or GNU long names: throws
 * on those rather than guess).
 */
export function readTarGz(archive: Buffer): TarEntry[] {
  const tar = gunzipSync(archive);
  const text = (from: number, length: number): string => tar.toString('utf8', from, from + length).replace(/\0.*$/s, '');
  const octal = (from: number, length: number): number => parseInt(text(from, length).trim() || '0', 8);
  const entries: TarEntry[] = [];
  for (let at = 0; at + BLOCK <= tar.length;) {
    if (tar.subarray(at, at + BLOCK).every((byte) => byte === 0)) break;
    const type = text(at + 156, 1) || '0';
    const size = octal(at + 124, 12);
    const prefix = text(at + 345, 155);
    const name = prefix ? `${prefix}/${text(at, 100)}` : text(at, 100);
    if (type === '0') entries.push({ name, mode: octal(at + 100, 8), data: tar.subarray(at + BLOCK, at + BLOCK + size) });
    else if (type !== '5') throw new Error(`${name}: tar entry type ${type} is not read here`);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}
