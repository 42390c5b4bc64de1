// One deterministic budget figure: what scripts/xs-budgets.ts measures, compares and records.
export interface Figure {
  name: string;
  value: number;
  unit: 'bytes' | 'computrons' | 'slots';
  /** A hard limit: above it the figure fails whatever the baseline says (e.g. the device's stack). */
  limit?: number;
  /**
   * A goal not reached yet: shown by the comparison (over its target), not failing it. When the figure
   * reaches it, it becomes the figure's limit.
   */
  target?: number;
  /** The growth over the baseline allowed for this figure, when tighter than the check's tolerance. */
  tolerance?: number;
}
