// A simulated 1-Wire bus at time-slot level: the line is the wired-AND of the master and every
// device, each slot is sampled by every device, reset pulses are answered with presence pulses.
// Exposes the OneWire port (and a constructor bound to the bus) and records a transcript.
import type { OneWire, OneWireConstructor, OneWireOptions } from '../../../src/ports';

/** What a device on the simulated 1-Wire bus implements. */
export interface SimOneWireDevice {
  /** A reset pulse; returns true to answer with a presence pulse. */
  resetPulse(): boolean;
  /** The bit this device drives in the coming slot: 0 pulls the line low, 1 leaves it released. */
  drive(): 0 | 1;
  /** The level of the line during that slot, as the device samples it. */
  sample(line: 0 | 1): void;
}

export type OneWireTranscriptEntry =
  | { op: 'reset'; presence: boolean }
  | { op: 'write'; bytes: Uint8Array }
  | { op: 'read'; bytes: Uint8Array }
  | { op: 'writeBit'; bit: 0 | 1 }
  | { op: 'readBit'; bit: 0 | 1 };

export class SimOneWireBus implements OneWire {
  readonly devices: SimOneWireDevice[] = [];
  readonly transcript: OneWireTranscriptEntry[] = [];
  transcriptLimit = 256;
  /** The line is shorted to ground: every slot reads 0, and the master mistakes it for presence. */
  stuckLow = false;
  /** Time slots run since creation. */
  slots = 0;
  /** ECMA-419-style OneWire constructor bound to this bus: pass it as `io` (with any pin). */
  readonly io: OneWireConstructor;

  constructor() {
    const bus = this;
    this.io = class SimOneWire implements OneWire {
      #open = true;
      constructor(options: OneWireOptions) {
        if (!Number.isInteger(options?.pin)) throw new RangeError(`OneWire pin must be an integer, got ${options?.pin}`);
      }
      reset(): boolean {
        this.#check();
        return bus.reset();
      }
      readBit(): 0 | 1 {
        this.#check();
        return bus.readBit();
      }
      writeBit(bit: 0 | 1): void {
        this.#check();
        bus.writeBit(bit);
      }
      read(count: number): Uint8Array {
        this.#check();
        return bus.read(count);
      }
      write(bytes: Uint8Array): void {
        this.#check();
        bus.write(bytes);
      }
      close(): void {
        this.#open = false;
      }
      #check(): void {
        if (!this.#open) throw new Error('OneWire closed');
      }
    };
  }

  attach<D extends SimOneWireDevice>(device: D): D {
    this.devices.push(device);
    return device;
  }

  detach(device: SimOneWireDevice): void {
    const i = this.devices.indexOf(device);
    if (i >= 0) this.devices.splice(i, 1);
  }

  clearTranscript(): void {
    this.transcript.length = 0;
  }

  reset(): boolean {
    let presence = this.stuckLow;
    for (const device of this.devices) if (device.resetPulse()) presence = true;
    this.#record({ op: 'reset', presence });
    return presence;
  }

  readBit(): 0 | 1 {
    const bit = this.#slot(1);
    this.#record({ op: 'readBit', bit });
    return bit;
  }

  writeBit(bit: 0 | 1): void {
    this.#slot(bit ? 1 : 0);
    this.#record({ op: 'writeBit', bit });
  }

  read(count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) for (let b = 0; b < 8; b++) out[i] |= this.#slot(1) << b;
    this.#record({ op: 'read', bytes: Uint8Array.from(out) });
    return out;
  }

  write(bytes: Uint8Array): void {
    for (const byte of bytes) for (let b = 0; b < 8; b++) this.#slot(((byte >> b) & 1) as 0 | 1);
    this.#record({ op: 'write', bytes: Uint8Array.from(bytes) });
  }

  close(): void {}

  /** One time slot: the master releases (1) or pulls (0) the line; devices drive, then sample. */
  #slot(master: 0 | 1): 0 | 1 {
    this.slots++;
    let line: 0 | 1 = this.stuckLow ? 0 : master;
    for (const device of this.devices) if (device.drive() === 0) line = 0;
    for (const device of this.devices) device.sample(line);
    return line;
  }

  #record(entry: OneWireTranscriptEntry): void {
    if (this.transcript.length >= this.transcriptLimit) this.transcript.shift();
    this.transcript.push(entry);
  }
}
