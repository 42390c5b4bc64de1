// Runs inside the 32-bit XS worker: the esp8266 scenario's platform with every call from the host into
// the firmware measured on the XS stack (stack-probe.ts): timers and the broker connection as in the
// stack budgets, and here also what provisioning adds: Wi-Fi events and scan results, the portal's
// listener and its connections, the captive DNS socket and the Improv serial port. Used only for the
// scenario's stack peak (esp8266.ts runs it apart: the wrappers cost heap the memory figures must not
// count).
import type { ListenerOptions, Network, Platform, Serial, SerialOptions, TcpOptions, UdpOptions, WiFi } from '../../src/ports';
import { xsnap } from '../../hosts/xs/in-xs/globals';
import { StackProbe, calibrate, probePlatform } from './stack-probe';

export function stackProbe(): StackProbe {
  const xs = xsnap().xs32;
  if (!xs) throw new Error('esp8266 stack probe: the global xs32 is missing; run it in the 32-bit worker (scripts/xs32)');
  const probe = new StackProbe(xs);
  calibrate(probe);
  return probe;
}

/** `platform` with its entries measured by `probe`. */
export function probeDevicePlatform(platform: Platform, probe: StackProbe): Platform {
  const probed = probePlatform(platform, probe);
  const serial = platform.serial;
  return {
    ...probed,
    network: probeLan(probed.network, platform.network, probe),
    wifi: platform.wifi && probeWiFi(platform.wifi, probe),
    serial: serial && ((options: SerialOptions): Serial => serial.call(platform, { baud: options.baud, onReadable: (n) => probe.enter(() => options.onReadable(n)), onError: (e) => probe.enter(() => options.onError?.(e)) })),
  };
}

/**
 * The radio's events and scan results are entries; a call into the radio counts as deep as one native
 * call (the `i2c` leaf: a native call, calibrated), not as the simulated radio goes (its timers).
 */
function probeWiFi(wifi: WiFi, probe: StackProbe): WiFi {
  return {
    scan: (callback) => probe.leaf('i2c', () => wifi.scan((networks, error) => probe.enter(() => callback(networks, error)))),
    connect: (options) => probe.leaf('i2c', () => wifi.connect(options)),
    disconnect: () => probe.leaf('i2c', () => wifi.disconnect()),
    onEvent: (handler) => wifi.onEvent((event) => probe.enter(() => handler(event))),
    rssi: () => probe.leaf('i2c', () => wifi.rssi()),
    startAccessPoint: (options) => probe.leaf('i2c', () => wifi.startAccessPoint(options)),
    stopAccessPoint: () => probe.leaf('i2c', () => wifi.stopAccessPoint()),
  };
}

/** The listener's connections and the UDP socket of `lan`, measured; connect() as probePlatform made it (`probed`). */
function probeLan(probed: Network, network: Network, probe: StackProbe): Network {
  const handlers = (h: Omit<TcpOptions, 'host' | 'port' | 'tls'>): Omit<TcpOptions, 'host' | 'port' | 'tls'> => ({
    onReadable: (n) => probe.enter(() => h.onReadable(n)),
    onWritable: h.onWritable && ((n) => probe.enter(() => h.onWritable!(n))),
    onError: (e) => probe.enter(() => h.onError(e)),
  });
  return {
    connect: (options) => probed.connect(options),
    listen: (options: ListenerOptions) =>
      network.listen!({
        port: options.port,
        address: options.address,
        onConnection: (connection) =>
          probe.enter(() =>
            options.onConnection({
              remoteAddress: connection.remoteAddress,
              accept: (h) => connection.accept(handlers(h)),
            }),
          ),
        onError: (e) => probe.enter(() => options.onError?.(e)),
      }),
    udp: (options: UdpOptions) =>
      network.udp!({ port: options.port, address: options.address, onReadable: (n) => probe.enter(() => options.onReadable(n)), onError: (e) => probe.enter(() => options.onError?.(e)) }),
  };
}
