import { hashPassword } from '../../src/server/passwords';
import { openPgStore } from '../../src/server/store/pg-store';
import { Program } from './processes';
import { passwordOf, TEST_SCRYPT } from './server';

/** A node of a cluster: the real `parley-server --postgres` program in a child process. */
export interface NodeProcess {
  program: Program;
  url: string;
  port: number;
  /** The JSON lines it has logged so far (`--log-format json`). */
  logged(): LogLine[];
}

export interface LogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** How often the test nodes say they are alive: a dead one is taken out within twice this. */
export const NODE_HEARTBEAT_S = 2;

/**
 * Adds `users` (password `${user}-pw`, at the tests' cheap scrypt cost) to the database at `url`, bringing its
 * schema up first: the nodes then start on a database that is ready, and sign-ins cost them little.
 */
export async function seedUsers(url: string, users: readonly string[]): Promise<void> {
  const store = await openPgStore(url, { maxConnections: 1 });
  try {
    for (const user of users) await store.putUser(user, await hashPassword(passwordOf(user), TEST_SCRYPT), Date.now());
  } finally {
    await store.close();
  }
}

/**
 * Starts `count` nodes on the database at `url`, each on a free loopback port, trusting a proxy on 127.0.0.1.
 * Their send limits are raised for bursts; the per-connection request rate stays the program's own. `options` are
 * more of the program's options, for every node.
 */
export async function startNodes(url: string, count: number, options: readonly string[] = []): Promise<NodeProcess[]> {
  const programs: Program[] = [];
  try {
    return await Promise.all(Array.from({ length: count }, () => startNode(url, programs, options)));
  } catch (err) {
    for (const program of programs) program.kill('SIGKILL');
    throw err;
  }
}

async function startNode(url: string, programs: Program[], options: readonly string[]): Promise<NodeProcess> {
  const program = new Program('src/server/main.ts', [
    ...['0', '--host', '127.0.0.1', '--postgres', url, '--node-heartbeat', String(NODE_HEARTBEAT_S)],
    ...['--trust-proxy', '127.0.0.1', '--send-burst', '10000', '--send-per-second', '10000', '--log-format', 'json'],
    ...options,
  ]);
  programs.push(program);
  const [, address = '', port = ''] = await program.waitFor(/^\s+(http:\/\/127\.0\.0\.1:(\d+))$/m, 60_000);
  return {
    program,
    url: address,
    port: Number(port),
    logged: () =>
      program.stderr.split('\n').flatMap((line) => {
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return [];
        }
      }),
  };
}

/** Ends every node still running, at once (SIGKILL): for a test's cleanup, whatever state it stopped in. */
export async function killNodes(nodes: readonly NodeProcess[]): Promise<void> {
  for (const node of nodes) node.program.kill('SIGKILL');
  await Promise.all(nodes.map((node) => node.program.exited));
}
