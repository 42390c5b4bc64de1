// The captive portal's two servers (DNS and HTTP), started together when the access point opens.
import { CaptiveDnsServer } from '../dns/captive-dns';
import { HttpServer } from '../http/server';
import type { Clock, Logger, Network } from '../ports';
import { createPortalHandler, type PortalContext } from './portal';
import type { PortalOptions } from './types';

export class PortalServers {
  private readonly dns: CaptiveDnsServer | undefined;
  private readonly http: HttpServer | undefined;

  /** Starts what it can; a server that cannot start is logged, the other still runs. */
  constructor(network: Network, clock: Clock, log: Logger, ip: string, options: PortalOptions, context: PortalContext) {
    try {
      this.dns = new CaptiveDnsServer({ network, ip, port: options.dnsPort ?? 53, address: options.listenAddress });
    } catch (error) {
      log.log('error', `provisioning: captive DNS not started: ${(error as Error).message}`);
    }
    try {
      this.http = new HttpServer({
        network,
        clock,
        port: options.httpPort ?? 80,
        address: options.listenAddress,
        limits: options.limits,
        handler: createPortalHandler(context),
        onError: (error) => log.log('error', `provisioning: portal: ${error.message}`),
      });
    } catch (error) {
      log.log('error', `provisioning: portal web server not started: ${(error as Error).message}`);
    }
  }

  get httpPort(): number | undefined {
    return this.http?.port;
  }

  get dnsPort(): number | undefined {
    return this.dns?.port;
  }

  close(): void {
    this.http?.close();
    this.dns?.close();
  }
}
