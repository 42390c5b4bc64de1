// One deterministic budget figure: what scripts/xs-budgets.ts measures, compares and records.
export interface Figure {
  name: string;
  value: number;
  unit: 'bytes' | 'computrons' | 'slots';
  /** A hard limit: above it the figure fails whatever the baseline says (e.g. the device's stack). */
  limit?: number;
}
