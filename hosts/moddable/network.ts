// Network port on ECMA-419 sockets: TCP (optionally TLS), a listener and UDP. Host names are
// resolved with Net.resolve first, because the ECMA-419 TCP constructor takes only an address.
import type { IncomingConnection, Listener, ListenerOptions, Network, TcpOptions, TcpSocket, TlsOptions, UdpOptions, UdpSocket } from '../../src/ports';
import TCP from 'embedded:io/socket/tcp';
import ListenerSocket from 'embedded:io/socket/listener';
import UDP from 'embedded:io/socket/udp';
import Net from 'net';
import { ModdableHostError, describe } from './errors';
import { closeIo } from './io-close';
import type { Resources } from './resources';
import { QueuedTcpSocket, type RawCallbacks, type RawSocket } from './tcp';
import { isDigits } from '../../src/text/chars';

/** TLS over TCP; present where the manifest includes Moddable's TLS stack (hosts/moddable/tls.ts). */
export interface TlsSupport {
  /** Moddable's `secure` options for a connection to `host`; throws on PEM it cannot use or half a client key pair. */
  secureOptions(host: string, tls: TlsOptions): Record<string, unknown>;
  open(options: { host: string; address: string; port: number; secure: Record<string, unknown>; callbacks: RawCallbacks }): RawSocket;
}

export interface NetworkDeps {
  resources: Resources;
  /** Defers a callback to a later turn, so errors never arrive before connect() returns. */
  defer(callback: () => void): void;
  tls?: TlsSupport;
}

/** Four groups of 1-3 digits separated by dots. */
const isIpv4 = (host: string): boolean => {
  const parts = host.split('.');
  return parts.length === 4 && isDigits(parts[0], 1, 3) && isDigits(parts[1], 1, 3) && isDigits(parts[2], 1, 3) && isDigits(parts[3], 1, 3);
};

export const createNetwork = (deps: NetworkDeps): Network => {
  return {
    connect: (options) => connect(deps, options),
    listen: (options) => listen(deps, options),
    udp: (options) => udp(deps, options),
  };
};

const connect = (deps: NetworkDeps, options: TcpOptions): TcpSocket => {
  const label = `${options.host}:${options.port}`;
  if (options.tls && !deps.tls) {
    throw new ModdableHostError('TLS_UNAVAILABLE', `TLS to ${label} is not available in this build (the ESP8266 build leaves Moddable's TLS stack out to fit its memory); use a plain port or an ESP32`);
  }
  const secure = options.tls ? deps.tls!.secureOptions(options.host, options.tls) : undefined;
  const socket = new QueuedTcpSocket(options, deps.resources, label);
  const open = (address: string) => {
    const callbacks = socket.callbacks();
    try {
      if (secure) socket.attach(deps.tls!.open({ host: options.host, address, port: options.port, secure, callbacks }));
      else socket.attach(new TCP({ address, port: options.port, nodelay: true, ...callbacks }) as unknown as RawSocket);
    } catch (error) {
      socket.fail(new ModdableHostError('TCP_FAILED', `cannot open a connection to ${label}: ${describe(error)}`));
    }
  };
  resolveHost(deps, options.host, (address, error) => {
    if (address) open(address);
    else socket.fail(error!);
  });
  return socket;
};

/** An IPv4 address for `host`, as the ECMA-419 sockets need (also the host's SNTP client's resolver). */
export const resolveHost = (deps: Pick<NetworkDeps, 'defer'>, host: string, done: (address: string | undefined, error?: Error) => void): void => {
  if (isIpv4(host) || host === 'localhost') {
    // The desktop build's resolver answers "localhost" with ::1 only, which ECMA-419 TCP cannot use.
    deps.defer(() => done(host === 'localhost' ? '127.0.0.1' : host));
    return;
  }
  const failed = (why: string) => new ModdableHostError('DNS_FAILED', `cannot resolve "${host}" (${why}); check the name and the network's DNS server`);
  try {
    Net.resolve(host, (_name, address) => (address ? done(address) : done(undefined, failed('no address'))));
  } catch (error) {
    deps.defer(() => done(undefined, failed(describe(error))));
  }
};

const listen = (deps: NetworkDeps, options: ListenerOptions): Listener => {
  let listener: ListenerSocket;
  try {
    listener = new ListenerSocket({
      port: options.port,
      ...(options.address ? { address: options.address } : {}),
      onReadable: (requests) => {
        for (let i = 0; i < requests; i++) {
          const raw = listener.read();
          if (raw) offer(deps, raw, options);
        }
      },
    });
  } catch (error) {
    throw new ModdableHostError('TCP_FAILED', `cannot listen on port ${options.port}: ${describe(error)}`);
  }
  const handle = { port: listener.port ?? options.port, close: () => deps.resources.release(handle) };
  deps.resources.track(handle, () => closeIo(listener));
  return handle;
};

const offer = (deps: NetworkDeps, raw: TCP, options: ListenerOptions): void => {
  let accepted = false;
  const connection: IncomingConnection = {
    remoteAddress: raw.remoteAddress ?? '',
    accept(handlers) {
      if (accepted) throw new ModdableHostError('TCP_FAILED', 'this connection was already accepted');
      accepted = true;
      const socket = new QueuedTcpSocket(handlers, deps.resources, `${connection.remoteAddress} (incoming)`);
      socket.attach(new TCP({ from: raw, nodelay: true, ...socket.callbacks() }) as unknown as RawSocket);
      return socket;
    },
  };
  try {
    options.onConnection(connection);
  } catch (error) {
    options.onError?.(error instanceof Error ? error : new Error(String(error)));
  }
  if (!accepted) raw.close();
};

const udp = (deps: NetworkDeps, options: UdpOptions): UdpSocket => {
  // Packets stay in the runtime's own bounded queue until read: no second, unbounded queue here.
  let socket: UDP;
  try {
    socket = new UDP({
      port: options.port,
      ...(options.address ? { address: options.address } : {}),
      onReadable: (packets) => options.onReadable(packets),
      onError: () => options.onError?.(new ModdableHostError('UDP_FAILED', `UDP socket on port ${options.port} failed`)),
    });
  } catch (error) {
    throw new ModdableHostError('UDP_FAILED', `cannot open UDP port ${options.port}: ${describe(error)}`);
  }
  const handle: UdpSocket = {
    port: options.port,
    read() {
      const packet = socket.read();
      return packet ? { data: new Uint8Array(packet), address: packet.address, port: packet.port } : undefined;
    },
    write(data, address, port) {
      try {
        socket.write(data, address, port);
      } catch (error) {
        throw new ModdableHostError('UDP_FAILED', `UDP send to ${address}:${port} failed: ${describe(error)}`);
      }
    },
    close: () => deps.resources.release(handle),
  };
  deps.resources.track(handle, () => closeIo(socket));
  return handle;
};
