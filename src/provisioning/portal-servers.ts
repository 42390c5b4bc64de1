// The captive portal's two servers (DNS and HTTP), started together when the access point opens.
import { CaptiveDnsServer } from '../dns/captive-dns';
import type { HttpLimits } from '../http/limits';
import type { HttpRequest } from '../http/request-parser';
import type { HttpResponse } from '../http/response';
import { HttpServer, type HttpServerOptions } from '../http/server';
import type { Clock, Logger, Network } from '../ports';
import { handlePortalRequest, type PortalContext } from './portal';
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
      this.http = new HttpServer(new PortalHttp(network, clock, log, options, context));
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

/** The portal web server's options, its handler and error report as methods (the server calls them on this object): no closures in the heap. */
class PortalHttp implements HttpServerOptions {
  readonly port: number;
  readonly address: string | undefined;
  readonly limits: Partial<HttpLimits> | undefined;

  constructor(
    readonly network: Network,
    readonly clock: Clock,
    private readonly log: Logger,
    options: PortalOptions,
    private readonly context: PortalContext,
  ) {
    this.port = options.httpPort ?? 80;
    this.address = options.listenAddress;
    this.limits = options.limits;
  }

  handler(request: HttpRequest): HttpResponse {
    return handlePortalRequest(this.context, request);
  }

  onError(error: Error): void {
    this.log.log('error', `provisioning: portal: ${error.message}`);
  }
}
