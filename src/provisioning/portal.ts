// HTTP side of the captive portal: probe redirects, the page, and the form submission.
import { HttpError } from '../http/errors';
import { parseForm, parseQuery } from '../http/form';
import type { HttpRequest } from '../http/request-parser';
import type { HttpResponse } from '../http/response';
import { renderPageParts, type PageView } from './portal-page';
import { ProvisioningInputError, validateCredentials, validateExtras, type ExtraSettings, type WiFiCredentials } from './validate';
import { asciiLower } from '../text/chars';

export type PortalStatus =
  | { kind: 'idle' }
  | { kind: 'scanning' }
  | { kind: 'testing'; ssid: string }
  | { kind: 'failed'; ssid: string; message: string }
  | { kind: 'connected'; ssid: string; ip: string };

/** What the portal needs from the provisioning state machine. */
export interface PortalContext {
  readonly title: string;
  readonly deviceId: string;
  readonly firmwareVersion: string;
  /** Absolute URL of the page, e.g. "http://192.168.4.1/". */
  origin(): string;
  networks(): PageView['networks'];
  status(): PortalStatus;
  requestScan(): void;
  /** Starts trying the credentials; throws ProvisioningBusyError while another attempt runs. */
  submit(credentials: WiFiCredentials, extras: ExtraSettings): void;
  /** Called on every request: the portal is in use. */
  activity(): void;
}

export class ProvisioningBusyError extends Error {
  readonly code = 'busy';
}
ProvisioningBusyError.prototype.name = 'ProvisioningBusyError';

/**
 * Paths the operating systems probe to detect a captive portal. Every one of them (and any
 * unknown path) is answered with a 302 to the page: Android wants anything but 204 from
 * /generate_204, Apple anything but its "Success" page, Windows anything but "Microsoft Connect Test".
 */
export const PROBE_PATHS: readonly string[] = Object.freeze([
  '/generate_204',
  '/gen_204',
  '/hotspot-detect.html',
  '/library/test/success.html',
  '/connecttest.txt',
  '/ncsi.txt',
  '/redirect',
  '/canonical.html',
  '/success.txt',
]);

const pageHeaders: ReadonlyArray<[string, string]> = Object.freeze([
  ['Content-Type', 'text/html; charset=utf-8'],
  ['Cache-Control', 'no-store'],
  ['Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"],
]);

const page = (status: number, view: PageView): HttpResponse => {
  return { status, headers: pageHeaders.slice(), body: renderPageParts(view) };
};

const baseView = (ctx: PortalContext, values: PageView['values'] = {}): PageView => {
  return { title: ctx.title, deviceId: ctx.deviceId, firmwareVersion: ctx.firmwareVersion, networks: ctx.networks(), values };
};

const statusView = (ctx: PortalContext, values: PageView['values']): PageView => {
  const view = baseView(ctx, values);
  const st = ctx.status();
  if (st.kind === 'testing') {
    view.message = { kind: 'info', text: `Connecting to “${st.ssid}”…` };
    view.refreshSeconds = 2;
    view.hideForm = true;
  } else if (st.kind === 'scanning') {
    view.message = { kind: 'info', text: 'Looking for networks…' };
    view.refreshSeconds = 3;
  } else if (st.kind === 'failed') {
    view.message = { kind: 'error', text: st.message };
    if (!values.ssid) view.values = { ...values, ssid: st.ssid };
    view.focusPassword = true;
  } else if (st.kind === 'connected') {
    view.message = {
      kind: 'ok',
      text: `Connected to “${st.ssid}” with address ${st.ip}. The settings are saved; this setup network closes shortly. Rejoin your usual Wi-Fi.`,
    };
    view.hideForm = true;
  }
  return view;
};

const redirect = (location: string, status = 302): HttpResponse => {
  return { status, headers: [['Location', location], ['Cache-Control', 'no-store'], ['Content-Type', 'text/plain']], body: '' };
};

export const createPortalHandler = (ctx: PortalContext): (request: HttpRequest) => HttpResponse => {
  return (request) => handlePortalRequest(ctx, request);
};

/** The portal's answer to `request` (a function, not a closure per portal: the portal servers call it). */
export const handlePortalRequest = (ctx: PortalContext, request: HttpRequest): HttpResponse => {
  ctx.activity();
  if (request.path === '/') {
    if (request.method === 'POST') return { status: 405, headers: [['Allow', 'GET, HEAD']], body: '' };
    let values: PageView['values'] = {};
    try {
      const q = parseQuery(request.query);
      if (q.has('scan')) {
        ctx.requestScan();
        return redirect('/', 303);
      }
      const s = q.get('s');
      if (s) values = { ssid: s };
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
    }
    const view = statusView(ctx, values);
    if (values.ssid && ctx.status().kind !== 'failed') view.focusPassword = true;
    return page(200, view);
  }
  if (request.path === '/connect') {
    if (request.method !== 'POST') return redirect(ctx.origin());
    return submit(ctx, request);
  }
  if (request.path === '/favicon.ico') return { status: 404, headers: [['Cache-Control', 'max-age=86400']], body: '' };
  return redirect(ctx.origin());
};

/** The page's field names (short, to keep the page small) and the labels a user sees. */
const FIELD_LABELS: Readonly<Record<string, string>> = Object.freeze({
  s: 'Network name (SSID)',
  p: 'Password',
  n: 'Device name',
  b: 'Broker URL',
  u: 'Broker user',
  w: 'Broker password',
});

const formErrorText = (error: HttpError): string => {
  const field = error.field;
  if (error.code === 'duplicate-field' && field !== undefined && Object.prototype.hasOwnProperty.call(FIELD_LABELS, field)) {
    return `The form sent “${FIELD_LABELS[field]}” (${field}) more than once, so it is unclear which value to use. Nothing was saved; reload the page and try again.`;
  }
  return `The form could not be read (${error.message}); reload the page and try again.`;
};

const submit = (ctx: PortalContext, request: HttpRequest): HttpResponse => {
  const type = asciiLower(request.headers.get('content-type') ?? '');
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    return page(415, { ...baseView(ctx), message: { kind: 'error', text: 'The form was sent in an unexpected format; reload the page and try again.' } });
  }
  let form: Map<string, string>;
  try {
    form = parseForm(request.body);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return page(400, { ...baseView(ctx), message: { kind: 'error', text: formErrorText(error) } });
  }
  const values = { ssid: form.get('s') ?? '', deviceName: form.get('n') ?? '', brokerUrl: form.get('b') ?? '', brokerUser: form.get('u') ?? '' };
  try {
    const credentials = validateCredentials(values.ssid, form.get('p') ?? '');
    const extras = validateExtras({ ...values, brokerPassword: form.get('w') ?? '' });
    ctx.submit(credentials, extras);
  } catch (error) {
    if (error instanceof ProvisioningInputError) {
      return page(400, { ...baseView(ctx, values), message: { kind: 'error', text: error.message }, focusPassword: error.field === 'password' });
    }
    if (error instanceof ProvisioningBusyError) {
      return page(409, { ...baseView(ctx, values), message: { kind: 'error', text: error.message }, refreshSeconds: 3 });
    }
    throw error;
  }
  return redirect('/', 303);
};
