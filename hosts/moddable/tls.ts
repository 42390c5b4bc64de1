// TLS sockets from Moddable's ECMA-419 TLS socket (examples/io/tcp/tlssocket over the SDK's TLS
// stack in modules/crypt). Listed only in builds that include that stack (esp32, lin).
import TLSSocket from 'embedded:io/socket/tcp/tls';
import TCP from 'embedded:io/socket/tcp';
import type { TlsFactory } from './network';
import type { RawSocket } from './tcp';

export const tlsFactory: TlsFactory = ({ host, address, port, secure, callbacks }) => {
  const options = { host, address, port, secure, TCP: { io: TCP }, ...callbacks };
  return new TLSSocket(options as unknown as ConstructorParameters<typeof TLSSocket>[0]) as unknown as RawSocket;
};
