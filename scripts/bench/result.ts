export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The peer measured side by side in the same run, if any. */
  peer?: string;
  peerValue?: number;
  /** value / peerValue, oriented so that > 1 is better for us (see `lowerIsBetter`). */
  ratio?: number;
  lowerIsBetter?: boolean;
  /** A target from the issue, for the table. */
  target?: string;
}
