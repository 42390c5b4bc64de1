// Starts a Node server on a port, falling back to a free port when that one is taken (if allowed).
import type { Server } from 'node:net';

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Listens on `wanted`; when it is in use and `fallback` is set, on a fresh server from `make` at a free
 * port instead. `requested` is the port asked for when another one was used. Other errors are thrown
 * as they are, for the caller to explain.
 */
export async function listenWithFallback<S extends Server>(make: () => S, wanted: number, host: string, fallback: boolean | undefined): Promise<{ server: S; port: number; requested?: number }> {
  let server = make();
  let requested: number | undefined;
  try {
    await listen(server, wanted, host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !fallback || wanted === 0) throw error;
    server = make();
    await listen(server, 0, host);
    requested = wanted;
  }
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : wanted, requested };
}
