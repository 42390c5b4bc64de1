// Runs inside XS: a Platform for booting the whole firmware in the budgets, with no host behind it.
// The test kit's fakes (hosts/sim/fakes): time moves only when the bench says so (ManualClock); the
// TCP peer is the ScriptedBroker, which answers every packet the device sends (CONNACK, SUBACK,
// PUBACK, PUBREC/PUBCOMP, PINGRESP) after a fixed latency on the same clock; storage is a MemoryStore.
// The I2C bus holds a BME280 made from the simulated one (hosts/sim/chips). Everything is
// deterministic, and the state these fakes keep does not grow with the run, so the heap figures are
// the firmware's.
import type { I2C, I2CConstructor, I2COptions, Logger, LogLevel, Platform, System } from '../../src/ports';
import { SimBME280 } from '../../hosts/sim/chips/bme280';
import { nack, type SimI2CDevice } from '../../hosts/sim/chips/i2c-bus';
import { ScriptedBroker } from '../../hosts/sim/fakes/broker';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { MemoryStore } from '../../hosts/sim/fakes/store';

/** Wall time at boot: the device has SNTP time, as a Moddable board does after joining a network. */
const EPOCH_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/**
 * A BME280 as a register file: the registers of a simulated BME280 (hosts/sim/chips) right after a
 * forced conversion, answering the driver's reads and keeping its control writes. Conversions are
 * instant and repeat the same result, so the sensor costs what an I2C transfer costs on a device
 * (one native call), not the simulator's physics.
 */
export class RegisterImageBME280 implements SimI2CDevice {
  readonly address: number;
  private readonly regs = new Uint8Array(256);
  private pointer = 0;

  constructor(conditions: { temperature: number; pressure: number; humidity: number }, address = 0x76) {
    this.address = address;
    let now = 0;
    const sim = new SimBME280({ now: () => now, address });
    sim.temperature = conditions.temperature;
    sim.pressure = conditions.pressure;
    sim.humidity = conditions.humidity;
    // humidity x1, then temperature x1, pressure x1, forced mode (BME280 datasheet 5.4.3 and 5.4.5)
    sim.write(Uint8Array.of(0xf2, 0x01));
    sim.write(Uint8Array.of(0xf4, (1 << 5) | (1 << 2) | 1));
    now = 100;
    for (let r = 0; r < 256; r++) this.regs[r] = sim.peek(r);
    if (sim.conversions !== 1) throw new Error('the simulated BME280 did not convert');
  }

  write(bytes: Uint8Array): void {
    // (register, value) pairs; a lone register byte sets the read pointer
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const r = bytes[i]!;
      // ctrl_hum, config, ctrl_meas; a forced conversion is done at once, so the mode reads sleep
      if (r === 0xf2 || r === 0xf5) this.regs[r] = bytes[i + 1]!;
      else if (r === 0xf4) this.regs[r] = bytes[i + 1]! & 0xfc;
    }
    if (bytes.length) this.pointer = bytes[bytes.length % 2 ? bytes.length - 1 : 0]!;
  }

  read(count: number): Uint8Array {
    const p = this.pointer;
    this.pointer = (p + count) & 0xff;
    if (p + count <= 256) return this.regs.slice(p, p + count);
    // the register address wraps around
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.regs[(p + i) & 0xff]!;
    return out;
  }
}

/** An I2C class for the bench bus: the chips by address, and a NACK for any other address. */
export function benchI2C(chips: SimI2CDevice[]): I2CConstructor {
  class BenchI2C implements I2C {
    private chip: SimI2CDevice | undefined;
    private readonly address: number;
    constructor(options: I2COptions) {
      this.address = options.address;
      for (const chip of chips) if (chip.address === options.address) this.chip = chip;
    }
    read(count: number, stop?: boolean): Uint8Array;
    read(buffer: Uint8Array, stop?: boolean): void;
    read(countOrBuffer: number | Uint8Array, stop = true): Uint8Array | void {
      const chip = this.open();
      if (typeof countOrBuffer === 'number') return chip.read(countOrBuffer, stop);
      countOrBuffer.set(chip.read(countOrBuffer.length, stop));
    }
    write(bytes: Uint8Array, stop = true): void {
      this.open().write(bytes, stop);
    }
    close(): void {
      this.chip = undefined;
    }
    private open(): SimI2CDevice {
      if (!this.chip) nack(`no ACK from 0x${this.address.toString(16)}`);
      return this.chip;
    }
  }
  return BenchI2C;
}

/** Counts log lines by level and keeps the last warning or error, so a failed check can say why. */
export class CountingLogger implements Logger {
  readonly counts: Record<LogLevel, number> = { debug: 0, info: 0, warn: 0, error: 0 };
  lastProblem = '';
  log(level: LogLevel, message: string): void {
    this.counts[level]++;
    if (level === 'warn' || level === 'error') this.lastProblem = `${level}: ${message}`;
  }
}

export interface BenchPlatform {
  platform: Platform;
  clock: ManualClock;
  broker: ScriptedBroker;
  log: CountingLogger;
  chip: RegisterImageBME280;
  restarts: string[];
}

/** Device id and OTA key are fixed: the figures must not depend on anything but the code. */
export const DEVICE_ID = '3c71bf4a2d10';
/** Ed25519 public key of RFC 8032 section 7.1, test 1: jobs are checked against a real key. */
const OTA_PUBLIC_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

export function benchPlatform(): BenchPlatform {
  const clock = new ManualClock({ wallTime: EPOCH_MS });
  const broker = new ScriptedBroker(clock);
  const log = new CountingLogger();
  const chip = new RegisterImageBME280({ temperature: 21.5, pressure: 101_325, humidity: 45 });
  const restarts: string[] = [];
  let seed = 0x2545f491;
  const system: System = {
    deviceId: () => DEVICE_ID,
    restart(reason) {
      restarts.push(reason);
    },
    freeMemory: () => 96 * 1024,
    resetReason: () => 'power-on',
    random() {
      // xorshift32
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    },
  };
  const platform: Platform = {
    clock,
    system,
    log,
    storage: new MemoryStore(),
    network: broker,
    i2c: benchI2C([chip]),
    config: {
      i2c: { data: 21, clock: 22, hz: 400_000 },
      sensors: [{ type: 'bme280', name: 'climate', address: 0x76 }],
      otaPublicKey: OTA_PUBLIC_KEY,
    },
  };
  return { platform, clock, broker, log, chip, restarts };
}
