// Typed sensor errors. Every driver failure is a SensorError whose `code` says what went wrong,
// so the telemetry loop can decide (retry later, report the sensor missing, flag bad wiring).

export type SensorErrorCode =
  /** Nothing answered: the chip NACKed its address, or no 1-Wire presence pulse. */
  | 'absent'
  /** Something answered, but it is not the chip this driver speaks to. */
  | 'wrong-chip'
  /** A checksum did not match: noise on the bus, long wires, or a failing chip. */
  | 'crc'
  /** The bus itself failed: stuck line, timeout, data a working chip cannot produce. */
  | 'bus'
  /** A reading outside the chip's specified range, for callers that reject it (requireInRange). */
  | 'range'
  /** No result yet: sample() came before start() or before conversionTime ms elapsed. */
  | 'not-ready'
  /** The options given to a constructor or configure() are invalid. */
  | 'config';

export class SensorError extends Error {
  readonly code: SensorErrorCode;
  constructor(code: SensorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
SensorError.prototype.name = 'SensorError';

/**
 * What a host's I2C error says, when the host can tell: ESP-IDF distinguishes a NACK from a bus
 * timeout, Moddable's ECMA-419 I2C does not ("write failed"). Hosts that can tell set
 * `error.code` to 'nack' or 'timeout'; otherwise the driver decides from context.
 */
export const i2cFailure = (error: unknown): 'nack' | 'timeout' | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'nack' || code === 'timeout' ? code : undefined;
};

export const hex2 = (value: number): string => {
  return '0x' + value.toString(16).padStart(2, '0');
};
