// The captive portal's DNS server: every A query gets the access point's address.
import type { Network, UdpOptions, UdpSocket } from '../ports';
import { buildDnsAnswer, ipv4Bytes, parseDnsQuery } from './message';

export interface CaptiveDnsOptions {
  network: Network;
  /** The address every name resolves to (the access point's IP). */
  ip: string;
  /** UDP port, 53 on the device; 0 picks a free one (the simulator). */
  port?: number;
  /** Local address to bind; the host's default when absent. */
  address?: string;
  /** Seconds clients may cache the answer. Short, so names work again once the device leaves AP mode. */
  ttl?: number;
  /** Upper bound of packets handled per onReadable call, so a flood cannot starve everything else. */
  maxPerWakeup?: number;
}

export class CaptiveDnsError extends Error {
  readonly code = 'no-udp';
}
CaptiveDnsError.prototype.name = 'CaptiveDnsError';

export class CaptiveDnsServer {
  private readonly socket: UdpSocket;
  private readonly answerIp: Uint8Array;
  private readonly ttl: number;
  private readonly maxPerWakeup: number;
  /** Queries answered since start (for diagnostics and tests). */
  answered = 0;
  /** Packets dropped as malformed or not ours. */
  ignored = 0;

  constructor(options: CaptiveDnsOptions) {
    if (!options.network.udp) throw new CaptiveDnsError('this platform has no UDP: the captive portal DNS server cannot run');
    this.answerIp = ipv4Bytes(options.ip);
    this.ttl = options.ttl ?? 30;
    this.maxPerWakeup = options.maxPerWakeup ?? 16;
    this.socket = options.network.udp(new DnsSocketOptions(this, options.port ?? 53, options.address));
  }

  get port(): number {
    return this.socket.port;
  }

  close(): void {
    this.socket.close();
  }

  /** @internal Datagrams are waiting (DnsSocketOptions). */
  drain(): void {
    for (let i = 0; i < this.maxPerWakeup; i++) {
      const packet = this.socket.read();
      if (!packet) return;
      const question = parseDnsQuery(packet.data);
      if (!question) {
        this.ignored++;
        continue;
      }
      try {
        this.socket.write(buildDnsAnswer(packet.data, question, this.answerIp, this.ttl), packet.address, packet.port);
        this.answered++;
      } catch {
        this.ignored++; // socket closed under us or send failed: nothing to recover for a datagram
      }
    }
  }
}

/** The UDP socket's options, its callback a method (the host calls it on this object): no closure in the heap. */
class DnsSocketOptions implements UdpOptions {
  constructor(
    private readonly server: CaptiveDnsServer,
    readonly port: number,
    readonly address: string | undefined,
  ) {}

  onReadable(): void {
    this.server.drain();
  }
}
