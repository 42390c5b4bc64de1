// Sets the wall clock from an SNTP server (RFC 4330) over the Network port's UDP socket. TLS
// certificate checks and the Clock's wallTime() need it; the chips have no battery-backed clock.
// It asks as Moddable's `sntp` module does (up to 5 requests, 5 s apart) but on the ECMA-419 UDP
// socket, so a build needs neither that module nor the classic socket layer it runs on.
import type { Clock, Logger, UdpOptions, UdpSocket } from '../../src/ports';
import { describe } from './errors';

export interface SntpDeps {
  udp(options: UdpOptions): UdpSocket;
  /** Resolves a host name to an IPv4 address (network.ts's resolver). */
  resolve(host: string, done: (address: string | undefined, error?: Error) => void): void;
  clock: Clock;
  log: Logger;
  /** Sets the runtime's clock, in seconds since 1970 (Moddable's Time.set). */
  setTime(seconds: number): void;
}

const NTP_PORT = 123;
const PACKET_BYTES = 48;
/** First byte of a request: version 4, mode 3 (client). */
const CLIENT_REQUEST = (4 << 3) | 3;
const MODE_MASK = 7;
const MODE_SERVER = 4;
/** A stratum of 0 is a kiss-o'-death: the server asks the client to go away, and gives no time. */
const STRATUM_KISS_OF_DEATH = 0;
/** Offset of the seconds of the server's transmit timestamp. */
const TRANSMIT_SECONDS = 40;
const NTP_TO_UNIX_SECONDS = 2_208_988_800;
/** RFC 4330 section 3: seconds with the top bit clear are in the era that starts in 2036. */
const ERA_SPLIT = 0x8000_0000;
const ERA_SECONDS = 0x1_0000_0000;
const REQUESTS = 5;
const RETRY_MS = 5_000;

/** Seconds since 1970 from a server's reply, or undefined for anything that is not a usable answer. */
export const sntpSeconds = (packet: Uint8Array): number | undefined => {
  if (packet.length !== PACKET_BYTES || (packet[0]! & MODE_MASK) !== MODE_SERVER || packet[1] === STRATUM_KISS_OF_DEATH) return undefined;
  const at = TRANSMIT_SECONDS;
  const ntp = ((packet[at]! << 24) | (packet[at + 1]! << 16) | (packet[at + 2]! << 8) | packet[at + 3]!) >>> 0;
  return (ntp < ERA_SPLIT ? ntp + ERA_SECONDS : ntp) - NTP_TO_UNIX_SECONDS;
};

export const startSntp = (host: string, deps: SntpDeps): void => {
  const { clock, log } = deps;
  const noTime = () => log.log('warn', `no time from SNTP server ${host}; wall time stays unknown`);
  deps.resolve(host, (address) => {
    if (!address) return noTime();
    let socket: UdpSocket;
    let timer: ReturnType<Clock['set']>;
    let sent = 0;
    const finish = () => {
      clock.clear(timer);
      socket.close();
    };
    try {
      socket = deps.udp({
        port: 0,
        onReadable: () => {
          for (let packet = socket.read(); packet; packet = socket.read()) {
            const seconds = sntpSeconds(packet.data);
            if (seconds === undefined) continue;
            finish();
            deps.setTime(seconds);
            log.log('info', `clock set from ${host}`);
            return;
          }
        },
      });
    } catch (error) {
      log.log('warn', `cannot ask SNTP server ${host}: ${describe(error)}`);
      return;
    }
    const request = new Uint8Array(PACKET_BYTES);
    request[0] = CLIENT_REQUEST;
    const ask = () => {
      if (sent++ === REQUESTS) {
        finish();
        noTime();
        return;
      }
      try {
        socket.write(request, address, NTP_PORT);
      } catch {
        // a full lwIP queue: the next request goes out at the next retry
      }
      timer = clock.set(ask, RETRY_MS);
    };
    ask();
  });
};
