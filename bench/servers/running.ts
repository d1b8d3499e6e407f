/** A server under test, running in this process. */
import type { Utilization } from '../protocol';

export interface RunningServer {
  port: number;
  close(): Promise<void>;
  /** Parley: its store thread's event-loop utilization so far. */
  storeUtilization?(): Utilization | undefined;
}
