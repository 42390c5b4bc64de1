// The ECMA-419 TLS socket (examples/io/tcp/tlssocket in the SDK). The SDK's own typing of it
// (typings/embedded_io/socket/tls.d.ts) is mapped to "embedded:io/socket/tls" by
// manifest_typings.json, not to the "embedded:io/socket/tcp/tls" the module is registered as, so a
// strict build finds no declaration; the manifest lists this file under the right name instead.
declare module 'embedded:io/socket/tcp/tls' {
  import type { Options as TCPOptions } from 'embedded:io/socket/tcp';
  export type Options = TCPOptions & { host: string; secure: Record<string, any> };
  export default class TLSSocket {
    constructor(options: Options);
    close(): undefined;
    read(count: number | ArrayBufferLike): undefined | ArrayBufferLike;
    write(buffer: ArrayBufferLike): number;
    format: string;
  }
}
