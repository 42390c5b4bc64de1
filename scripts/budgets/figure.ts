// One deterministic budget figure: what scripts/xs-budgets.ts measures, compares and records.
export interface Figure {
  name: string;
  value: number;
  unit: 'bytes' | 'computrons' | 'slots';
}
