export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The peer measured side by side in the same run, if any. */
  peer?: string;
  peerValue?: number;
  /**
   * value / peerValue, oriented so that > 1 is better for us (see `lowerIsBetter`); except where the
   * issue states the target as ours over the peer's (the client CPU rows: <= 0.5 is the goal).
   */
  ratio?: number;
  lowerIsBetter?: boolean;
  /** A target from the issue, for the table. */
  target?: string;
}
