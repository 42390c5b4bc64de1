// Improv Wi-Fi over serial: answers the RPCs of a client such as ESP Web Tools over Web Serial
// (current state, device info, scan, send Wi-Fi settings) using the provisioning state machine.
import type { Clock, Platform, Serial, SerialOptions, WiFiNetwork } from '../ports';
import type { AttemptResult, ProvisioningState, StateListener } from '../provisioning/provisioning';
import { ProvisioningInputError, type WiFiCredentials } from '../provisioning/validate';
import { Command, decodeRpc, decodeStrings, encodePacket, encodeRpcResult, ImprovError, ImprovPacketError, ImprovState, PacketType } from './packet';
import { ImprovReader, type ImprovFrame, type ImprovFrameSink } from './reader';

/** What Improv needs from provisioning; Provisioning implements it. */
export interface ImprovTarget {
  readonly state: ProvisioningState;
  readonly ip: string | undefined;
  subscribe(listener: StateListener): void;
  unsubscribe(listener: StateListener): void;
  scan(callback: (networks: WiFiNetwork[]) => void): void;
  tryCredentials(credentials: WiFiCredentials, extras: undefined, done: (result: AttemptResult) => void): void;
}

interface ImprovInfo {
  firmwareName: string;
  firmwareVersion: string;
  /** Hardware chip/variant, e.g. "esp8266" or "nodemcu/esp32". */
  hardware: string;
  deviceName: string;
}

/** The service calls write() and redirectUrl() as methods of this object, so it may be a class instance whose methods they are. */
export interface ImprovServiceOptions {
  target: ImprovTarget;
  clock: Clock;
  /** Sends bytes to the client (the serial port). */
  write(bytes: Uint8Array): void;
  info: ImprovInfo;
  /** URL the client offers to open once provisioned (Improv "next URL"); none by default. */
  redirectUrl?(ip: string): string | undefined;
}

export const improvStateOf = (state: ProvisioningState): number => {
  if (state === 'testing') return ImprovState.provisioning;
  if (state === 'connected') return ImprovState.provisioned;
  return ImprovState.ready;
};

const NEWLINE = new Uint8Array([0x0a]);

export class ImprovSerialService implements ImprovFrameSink, StateListener {
  private readonly reader: ImprovReader;
  /** State changes are announced only once a client has spoken, to keep plain serial consoles quiet. */
  private clientSeen = false;
  private lastAnnounced = -1;
  private closed = false;

  constructor(private readonly options: ImprovServiceOptions) {
    // this service is the reader's sink and the target's listener: no closures in the heap
    this.reader = new ImprovReader(this);
    options.target.subscribe(this);
  }

  /** The provisioning state changed (StateListener). */
  provisioningState(state: ProvisioningState): void {
    if (this.clientSeen) this.announce(improvStateOf(state));
  }

  /** A complete packet with a bad checksum (ImprovFrameSink). */
  badChecksum(): void {
    this.sendError(ImprovError.invalidRpc);
  }

  /** Bytes from the serial port. */
  receive(bytes: Uint8Array): void {
    if (!this.closed) this.reader.push(bytes, this.options.clock.now());
  }

  close(): void {
    this.closed = true;
    this.options.target.unsubscribe(this);
  }

  /** A packet from the client (ImprovFrameSink). */
  frame(frame: ImprovFrame): void {
    if (frame.type !== PacketType.rpc) return; // our own packets echoed back, or a client talking to itself
    this.clientSeen = true;
    let rpc;
    try {
      rpc = decodeRpc(frame.data);
    } catch {
      this.sendError(ImprovError.invalidRpc);
      return;
    }
    this.sendError(ImprovError.none);
    switch (rpc.command) {
      case Command.currentState:
        this.currentState();
        break;
      case Command.deviceInfo: {
        const i = this.options.info;
        this.sendResult(Command.deviceInfo, [i.firmwareName, i.firmwareVersion, i.hardware, i.deviceName]);
        break;
      }
      case Command.scan:
        this.options.target.scan((networks) => this.scanResults(networks));
        break;
      case Command.wifiSettings:
        this.wifiSettings(rpc.payload);
        break;
      default:
        this.sendError(ImprovError.unknownRpc);
    }
  }

  private currentState(): void {
    const target = this.options.target;
    const state = improvStateOf(target.state);
    this.announce(state, true);
    if (state === ImprovState.provisioned) this.sendResult(Command.currentState, this.urls(target.ip));
  }

  private scanResults(networks: WiFiNetwork[]): void {
    for (const n of networks) {
      try {
        this.sendResult(Command.scan, [n.ssid, String(n.rssi), n.auth === 'open' ? 'NO' : 'YES']);
      } catch (error) {
        if (!(error instanceof ImprovPacketError)) throw error;
      }
    }
    this.sendResult(Command.scan, []);
  }

  private wifiSettings(payload: Uint8Array): void {
    let ssid: string;
    let password: string;
    try {
      const strings = decodeStrings(payload);
      if (strings.length !== 2) throw new ImprovPacketError('malformed-rpc', 'Send Wi-Fi settings needs exactly an SSID and a password');
      [ssid, password] = strings;
    } catch {
      this.sendError(ImprovError.invalidRpc);
      return;
    }
    try {
      this.options.target.tryCredentials({ ssid, password }, undefined, (result) => {
        if (this.closed) return;
        if (result.ok) {
          this.announce(ImprovState.provisioned);
          this.sendResult(Command.wifiSettings, this.urls(result.ip));
        } else {
          this.sendError(ImprovError.unableToConnect);
          this.announce(improvStateOf(this.options.target.state));
        }
      });
    } catch (error) {
      this.sendError(error instanceof ProvisioningInputError ? ImprovError.invalidRpc : ImprovError.unknown);
    }
  }

  private urls(ip: string | undefined): string[] {
    const url = ip ? this.options.redirectUrl?.(ip) : undefined;
    return url ? [url] : [];
  }

  private announce(state: number, always = false): void {
    if (!always && state === this.lastAnnounced) return;
    this.lastAnnounced = state;
    this.send(PacketType.currentState, new Uint8Array([state]));
  }

  private sendError(error: number): void {
    this.send(PacketType.errorState, new Uint8Array([error]));
  }

  private sendResult(command: number, strings: string[]): void {
    this.send(PacketType.rpcResult, encodeRpcResult(command, strings));
  }

  private send(type: number, data: Uint8Array): void {
    if (this.closed) return;
    // The newline lets line-oriented clients (the Improv serial SDK) find the next packet.
    this.options.write(encodePacket(type, data));
    this.options.write(NEWLINE);
  }
}

export class ImprovSerialPortError extends Error {
  readonly code = 'no-serial';
}
ImprovSerialPortError.prototype.name = 'ImprovSerialPortError';

/** Opens the platform's serial port and runs Improv on it. Use the service directly if the port is shared. */
export const attachImprovSerial = (
  platform: Platform,
  options: Omit<ImprovServiceOptions, 'write' | 'clock'> & { baud?: number },
): { service: ImprovSerialService; serial: Serial; close(): void } => {
  if (!platform.serial) throw new ImprovSerialPortError('this platform has no serial port: Improv serial cannot run');
  const link = new SerialImprov(platform, options);
  const serial = link.open();
  return {
    service: link.service!,
    serial,
    close() {
      link.service!.close();
      serial.close();
    },
  };
};

/**
 * The serial port's options and the service's: the port's callbacks and the service's write() are
 * methods of this class (the host and the service call them on it), so no closures are kept.
 */
class SerialImprov implements ImprovServiceOptions, SerialOptions {
  readonly target: ImprovTarget;
  readonly clock: Clock;
  readonly info: ImprovServiceOptions['info'];
  declare readonly redirectUrl?: ImprovServiceOptions['redirectUrl'];
  readonly baud: number;
  service: ImprovSerialService | undefined;
  private serial: Serial | undefined;

  constructor(
    private readonly platform: Platform,
    options: Omit<ImprovServiceOptions, 'write' | 'clock'> & { baud?: number },
  ) {
    this.target = options.target;
    this.clock = platform.clock;
    this.info = options.info;
    if (options.redirectUrl) (this as { redirectUrl?: unknown }).redirectUrl = options.redirectUrl;
    this.baud = options.baud ?? 115200;
  }

  open(): Serial {
    const serial = (this.serial = this.platform.serial!(this));
    this.service = new ImprovSerialService(this);
    return serial;
  }

  write(bytes: Uint8Array): void {
    this.serial!.write(bytes);
  }

  onReadable(): void {
    const bytes = this.serial!.read();
    if (bytes && this.service) this.service.receive(bytes);
  }

  onError(error: Error): void {
    this.platform.log.log('warn', `improv: serial error: ${error.message}`);
  }
}
