import fs from 'node:fs';
import path from 'node:path';

/**
 * Data directories open in this process. The pid file cannot tell two stores of one process apart, so
 * claims are made on the main thread only (a store worker opens a directory claimed for it).
 */
const openDirs = new Set<string>();

/**
 * Claims the data directory for this process with `parley.pid`, taking over a file left by a
 * process that no longer runs. Returns the directory's real path and the function that releases it.
 */
export function claimDataDir(dataDir: string): { dir: string; release: () => void } {
  fs.mkdirSync(dataDir, { recursive: true });
  const dir = fs.realpathSync(dataDir);
  if (openDirs.has(dir)) throw new DataDirInUse(dir, process.pid);
  const pidFile = path.join(dir, 'parley.pid');
  const ours = String(process.pid);
  // Two tries: the second follows removing a stale file. Losing that race to another
  // process makes our exclusive create fail again, and we then report that process.
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(pidFile, `${ours}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    }
    const holder = readPid(pidFile);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) throw new DataDirInUse(dir, holder);
    if (attempt > 0) throw new DataDirInUse(dir, holder ?? 0);
    fs.rmSync(pidFile, { force: true });
  }
  openDirs.add(dir);
  const release = (): void => {
    openDirs.delete(dir);
    // Only our own file: never remove a lock another process took over.
    if (readPid(pidFile) === process.pid) fs.rmSync(pidFile, { force: true });
  };
  return { dir, release };
}

/** Another process (a server, a backup...) holds the data directory; `pid` 0 when it could not be told. */
export class DataDirInUse extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`data directory ${dir} is in use by process ${pid}`);
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0 only checks that the process exists
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM'); // exists, but belongs to another user
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
