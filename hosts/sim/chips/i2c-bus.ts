// A simulated I2C bus: devices by 7-bit address, an ECMA-419 I2C class bound to the bus, and a
// transcript of every transfer for the bus-transcript tests. Pure TypeScript (runs on XS too).
import type { I2CConstructor, I2COptions } from '../../../src/ports';

/** What a chip on the simulated bus implements. Throw SimI2CError('nack') to NACK. */
export interface SimI2CDevice {
  readonly address: number;
  /** The master wrote `bytes` (address ACKed). */
  write(bytes: Uint8Array, stop: boolean): void;
  /** The master reads `count` bytes. */
  read(count: number, stop: boolean): Uint8Array;
}

export type SimI2CErrorCode = 'nack' | 'timeout';

/** Thrown by the simulated host I2C. `code` tells a NACK from a stuck bus, as ESP-IDF can. */
export class SimI2CError extends Error {
  readonly code: SimI2CErrorCode;
  constructor(code: SimI2CErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
SimI2CError.prototype.name = 'SimI2CError';

export interface TranscriptEntry {
  address: number;
  op: 'write' | 'read';
  /** Bytes written, or bytes read (empty when the transfer failed). */
  bytes: Uint8Array;
  stop: boolean;
  /** Set when the transfer failed: 'nack' or 'timeout'. */
  error?: SimI2CErrorCode;
}

/** The ECMA-419 I2C class of every simulated bus: one class per process, bound to its bus (SimI2CBus.io). */
class SimI2C {
  readonly #bus: SimI2CBus;
  readonly #address: number;
  #open = true;
  constructor(bus: SimI2CBus, options: I2COptions) {
    if (!Number.isInteger(options?.address) || options.address < 0 || options.address > 0x7f) {
      throw new RangeError(`I2C address must be a 7-bit integer, got ${options?.address}`);
    }
    this.#bus = bus;
    this.#address = options.address;
  }
  read(countOrBuffer: number | Uint8Array, stop = true): Uint8Array | undefined {
    if (!this.#open) throw new Error('I2C closed');
    const count = typeof countOrBuffer === 'number' ? countOrBuffer : countOrBuffer.length;
    const bytes = this.#bus.transfer(this.#address, 'read', count, undefined, stop);
    if (typeof countOrBuffer === 'number') return bytes;
    countOrBuffer.set(bytes);
    return undefined;
  }
  write(bytes: Uint8Array, stop = true): void {
    if (!this.#open) throw new Error('I2C closed');
    this.#bus.transfer(this.#address, 'write', bytes.length, bytes, stop);
  }
  close(): void {
    this.#open = false;
  }
}

const NO_DEVICES: SimI2CDevice[] = [];

export class SimI2CBus {
  readonly transcript: TranscriptEntry[] = [];
  /** SDA held low (a crashed slave, a short): every transfer times out. */
  stuck = false;
  /**
   * Transfers recorded at most; older entries are dropped (bounded memory in long simulations). 0
   * records nothing and copies no bytes (a fleet of thousands of boards).
   */
  transcriptLimit = 256;
  /**
   * The chips, in attach order (a board has a handful: a list beats a hash table), in a list of just
   * their number (push would leave room for 16 on every bus).
   */
  #devices: SimI2CDevice[] = NO_DEVICES;
  /**
   * ECMA-419 I2C constructor bound to this bus: pass it as `io` in sensor options. A bound function
   * of one shared class, not a class per bus: thousands of simulated boards share the code.
   */
  readonly io: I2CConstructor = SimI2C.bind(undefined, this) as unknown as I2CConstructor;

  attach<D extends SimI2CDevice>(device: D): D {
    if (this.device(device.address)) throw new Error(`I2C address 0x${device.address.toString(16)} already taken on this bus`);
    this.#devices = this.#devices.concat([device]);
    return device;
  }

  detach(address: number): void {
    this.#devices = this.#devices.filter((d) => d.address !== address);
  }

  device(address: number): SimI2CDevice | undefined {
    for (const d of this.#devices) if (d.address === address) return d;
    return undefined;
  }

  clearTranscript(): void {
    this.transcript.length = 0;
  }

  transfer(address: number, op: 'write' | 'read', count: number, data: Uint8Array | undefined, stop: boolean): Uint8Array {
    if (this.transcriptLimit <= 0) return this.#transfer(address, op, count, data, stop);
    const entry: TranscriptEntry = { address, op, bytes: op === 'write' ? Uint8Array.from(data!) : new Uint8Array(0), stop };
    this.#record(entry);
    try {
      const bytes = this.#transfer(address, op, count, entry.bytes, stop);
      if (op === 'read') entry.bytes = Uint8Array.from(bytes);
      return entry.bytes;
    } catch (error) {
      if (error instanceof SimI2CError) entry.error = error.code;
      throw error;
    }
  }

  #transfer(address: number, op: 'write' | 'read', count: number, data: Uint8Array | undefined, stop: boolean): Uint8Array {
    if (this.stuck) throw new SimI2CError('timeout', 'I2C bus busy: SDA held low');
    const device = this.device(address);
    if (!device) throw new SimI2CError('nack', `no ACK from 0x${address.toString(16)}`);
    if (op === 'write') {
      device.write(data!, stop);
      return data!;
    }
    const bytes = device.read(count, stop);
    if (bytes.length !== count) throw new Error(`simulated chip returned ${bytes.length} bytes for a ${count}-byte read`);
    return bytes;
  }

  #record(entry: TranscriptEntry): void {
    if (this.transcript.length >= this.transcriptLimit) this.transcript.shift();
    this.transcript.push(entry);
  }
}

/** Throws the NACK a chip gives when it does not acknowledge. */
export function nack(message: string): never {
  throw new SimI2CError('nack', message);
}
