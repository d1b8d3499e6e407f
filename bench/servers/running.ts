/** A server under test, running in this process. */
export interface RunningServer {
  port: number;
  close(): Promise<void>;
}
