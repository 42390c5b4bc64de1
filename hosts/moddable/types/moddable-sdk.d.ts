// Our declarations of the Moddable SDK modules that hosts/moddable uses, so `tsc -p
// hosts/moddable/tsconfig.json` type-checks this folder without the SDK installed. They mirror
// $MODDABLE/typings (SDK 8.2.3), narrowed to what we call. Where the SDK typing omits a method the
// runtime has (close() on I2C, Analog, UDP and Listener), so does this file: code reaches it through
// closeIo() in io-close.ts. An mcconfig build does NOT use this file:
// it compiles against the SDK's own typings, which is the second check.

interface Trace {
  (...log: (string | number | boolean)[]): void;
}
declare const trace: Trace;

type ByteBuffer = ArrayBuffer | Uint8Array | DataView;

interface StringConstructor {
  /** XS: decodes UTF-8 bytes. */
  fromArrayBuffer(buffer: ArrayBufferLike): string;
}
interface ArrayBufferConstructor {
  /** XS: encodes a string as UTF-8. */
  fromString(string: string): ArrayBuffer;
}

declare module 'timer' {
  class Timer {
    private constructor();
    private brand: boolean;
    static set(callback: (timer: Timer) => void, interval?: number, repeat?: number): Timer;
    static repeat(callback: (timer: Timer) => void, interval: number): Timer;
    static schedule(timer: Timer, interval?: number, repeat?: number): void;
    static clear(timer: Timer | undefined | null): void;
  }
  export { Timer as default };
}

declare module 'time' {
  const Time: {
    set(seconds: number): void;
    /** Milliseconds since boot (a signed 32-bit counter on the MCUs). */
    readonly ticks: number;
    delta(start: number, end?: number): number;
  };
  export { Time as default };
}

declare module 'sntp' {
  class SNTP {
    static readonly time: 1;
    static readonly retry: 2;
    static readonly error: -1;
    constructor(options: { host: string }, callback: (message: -1 | 1 | 2, value?: number) => void);
  }
  export { SNTP as default };
}

declare module 'mc/config' {
  const Config: { file: { root: string } } & Record<string, any>;
  export { Config as default };
}

declare module 'preference' {
  const Preference: {
    set(domain: string, key: string, value: string | boolean | number | ArrayBuffer): void;
    get(domain: string, key: string): string | boolean | number | ArrayBuffer | undefined;
    delete(domain: string, key: string): void;
    keys(domain: string): string[];
  };
  export { Preference as default };
}

declare module 'net' {
  const Net: {
    get(what: 'IP', mode?: 'station' | 'ap' | 'ethernet'): string | undefined;
    get(what: 'MAC', mode?: 'station' | 'ap' | 'ethernet'): string | undefined;
    get(what: 'SSID' | 'BSSID'): string | undefined;
    get(what: 'RSSI'): number | undefined;
    resolve(name: string, callback: (name: string, address?: string) => void): void;
  };
  export { Net as default };
}

declare module 'wifi' {
  export type WiFiOptions = { ssid: string; password?: string; bssid?: ArrayBuffer };
  export type WiFiCallback = (
    message: 'connect' | 'gotIP' | 'lostIP' | 'disconnect' | 'station_connect' | 'station_disconnect',
    value?: number,
  ) => void;
  // The SDK typing lists no `channel`, though esp32/esp report one: read it through a cast.
  export type WiFiScanCallback = (item: { ssid: string; authentication: string; rssi: number; bssid: ArrayBuffer } | null) => void;
  class WiFi {
    static readonly Mode: { none: 0; station: 1; accessPoint: 2 };
    constructor(options?: WiFiOptions, callback?: WiFiCallback);
    close(): void;
    static scan(options: { hidden?: boolean; channel?: number }, callback: WiFiScanCallback): void;
    static mode: -5 | 0 | 1 | 2 | 3;
    static connect(options?: WiFiOptions): void;
    static disconnect(): void;
    static accessPoint(options: { ssid: string; password?: string; channel?: number; hidden?: boolean; max?: number }): void;
  }
  export { WiFi as default };
}

declare module 'embedded:io/socket/tcp' {
  export type Options = ({ address: string; port: number } | { from: TCP }) & {
    nodelay?: boolean;
    onReadable?: (this: TCP, bytes: number) => void;
    onWritable?: (this: TCP, bytes: number) => void;
    onError?: (this: TCP) => void;
    format?: 'number' | 'buffer';
  };
  class TCP {
    constructor(options: Options);
    readonly remoteAddress: string | undefined;
    readonly remotePort: number | undefined;
    read(byteLength?: number): number | ArrayBuffer;
    write(value: number | ByteBuffer): void;
    close(): void;
    format: 'number' | 'buffer';
  }
  export default TCP;
}

declare module 'embedded:io/socket/listener' {
  import type TCP from 'embedded:io/socket/tcp';
  class Listener {
    constructor(options: { port?: number; address?: string; onReadable?: (this: Listener, requests: number) => void });
    read(): TCP | undefined;
    readonly port: number;
  }
  export default Listener;
}

declare module 'embedded:io/socket/udp' {
  class UDP {
    constructor(options: { port?: number; address?: string; onReadable?: (this: UDP, packets: number) => void; onError?: () => void });
    write(buffer: ByteBuffer, address: string, port: number): void;
    read(): ArrayBuffer & { address: string; port: number };
  }
  export default UDP;
}

declare module 'embedded:io/i2c' {
  class I2C {
    constructor(options: { data: number; clock: number; hz: number; address: number; port?: number });
    write(value: ByteBuffer, stop?: boolean): void;
    read(byteLength: number, stop?: boolean): ArrayBuffer;
    read(buffer: ByteBuffer, stop?: boolean): number;
  }
  export default I2C;
}

declare module 'embedded:io/digital' {
  class Digital {
    static readonly Input: number;
    static readonly InputPullUp: number;
    static readonly InputPullDown: number;
    static readonly Output: number;
    static readonly OutputOpenDrain: number;
    constructor(options: { pin: number; mode: number });
    read(): 0 | 1;
    write(value: 0 | 1): void;
    close(): void;
  }
  export default Digital;
}

declare module 'embedded:io/analog' {
  class Analog {
    constructor(options: { pin: number; resolution?: number });
    readonly resolution: number;
    read(): number;
  }
  export default Analog;
}
