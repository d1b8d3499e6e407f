/** The shape of .bench/<mode>.json. */
import type { Phase, Sizes } from './config';
import type { ActivationResult } from './activation';
import type { CatchUpResult, ChannelRowsResult } from './channels';
import type { ClientResult } from './client';
import type { ClusterResult } from './cluster';
import type { ReconnectStormResult, ReplayBoundResult, SignInFloodResult } from './hardening';
import type { LatencyResult, RampResult, ReplayResult, StartTimes, StoreResult, ThroughputResult } from './measures';
import type { ServerKind } from './protocol';

export interface PhaseError {
  phase: string;
  error: string;
}

export interface KindResult {
  kind: ServerKind;
  label: string;
  /** Connecting and signing in the clients of the direct/fan-out/latency phases. */
  connect?: { clients: number; ms: number; failed: number; firstError?: string };
  direct?: ThroughputResult;
  fanout?: ThroughputResult;
  latency?: LatencyResult;
  /** Parley only; the baseline has no offline messages. */
  replay?: ReplayResult;
  /** Parley only: the fan-out through #general (the baseline's row is its broadcast fan-out). */
  channelFanout?: ThroughputResult;
  /** Parley only: catching up on missed channel messages. */
  catchUp?: CatchUpResult;
  ramp?: RampResult;
}

export interface Row {
  measure: string;
  values: Partial<Record<ServerKind, string>>;
  /** Parley / baseline, when both were measured. */
  ratio: number | null;
  ratioText: string;
  /** Parley / durable relay, for the measures both servers take, when the durable relay was measured. */
  durableRatioText?: string;
  goal: string;
  /** true/false against the goal; null when there is no goal or nothing to judge. */
  met: boolean | null;
  /** Where the measure belongs in the chart of ratios, if it does. */
  chart?: { label: string; goal?: number; lowerIsBetter: boolean };
}

export interface BenchResults {
  meta: {
    date: string;
    mode: Sizes['mode'];
    phases: Phase[];
    kinds: ServerKind[];
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    totalMemGiB: number;
    openFiles: { soft: number; hard: number };
    commit?: string;
    sizes: Sizes;
    notes: string[];
    elapsedMs?: number;
    /** os.loadavg() when the run started and ended: other work on the machine shows here. */
    loadAverage: { start: number[]; end?: number[] };
  };
  kinds: Partial<Record<ServerKind, KindResult>>;
  start?: StartTimes;
  store?: StoreResult;
  channelRows?: ChannelRowsResult;
  client?: ClientResult;
  activation?: ActivationResult;
  /** npm run bench -- --cluster: everything it measured. */
  cluster?: ClusterResult;
  hardening?: { flood?: SignInFloodResult; replay?: ReplayBoundResult; storm?: ReconnectStormResult };
  errors: PhaseError[];
  /** Before each measure: how busy the machine was (% of one core) and how long the bench waited for quiet. */
  quiet: { phase: string; busyPct: number; waitedMs: number }[];
  table?: Row[];
}
