// The portal's only page: one small form, inline CSS, no scripts or external resources.
import { percentEncode } from '../text/percent';

export const escapeHtml = (text: string): string => {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const entity = c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : c === "'" ? '&#39;' : '';
    if (entity) {
      out += text.slice(from, i) + entity;
      from = i + 1;
    }
  }
  return from ? out + text.slice(from) : text;
};

interface PageNetwork {
  ssid: string;
  rssi: number;
  /** Security shown beside the name: "open", "WPA2", ... */
  security: string;
}

export interface PageView {
  title: string;
  deviceId: string;
  firmwareVersion: string;
  message?: { kind: 'error' | 'info' | 'ok'; text: string };
  /** Reload the page after this many seconds (while connecting or scanning). */
  refreshSeconds?: number;
  /** Omit the form (e.g. once connected). */
  hideForm?: boolean;
  networks: PageNetwork[];
  values: { ssid?: string; deviceName?: string; brokerUrl?: string; brokerUser?: string };
  focusPassword?: boolean;
}

const bars = (rssi: number): string => {
  const n = rssi >= -55 ? 4 : rssi >= -65 ? 3 : rssi >= -75 ? 2 : 1;
  return '▂▄▆█'.slice(0, n);
};

const css =
  'body{font:16px system-ui,sans-serif;margin:0 auto;max-width:26em;padding:1em;color:#222}' +
  'h1{font-size:1.3em}label{display:block;margin-top:.8em}' +
  'input{box-sizing:border-box;width:100%;padding:.6em;font-size:1em;margin-top:.2em}' +
  'button{width:100%;padding:.8em;font-size:1.05em;margin-top:1.2em;background:#1565c0;color:#fff;border:0;border-radius:.3em}' +
  'ul{list-style:none;padding:0;margin:0}li a{display:flex;justify-content:space-between;padding:.6em;border-bottom:1px solid #ddd;color:inherit;text-decoration:none}' +
  '.m{padding:.7em;border-radius:.3em;margin:1em 0}.error{background:#fdecea;color:#b71c1c}.ok{background:#e8f5e9;color:#1b5e20}.info{background:#e3f2fd}' +
  'small,footer{color:#666}footer{margin-top:2em;font-size:.85em}';

// The page's fixed pieces: module constants, so they stay in flash (a literal inside a function is
// copied into the heap each time it runs).
const HEAD = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">';
const NETWORKS = '<h2>Wi-Fi networks</h2><ul>';
const NO_NETWORKS = '<li><small>No networks found yet.</small></li>';
const FORM_START = '</ul><p><a href="/?scan=1">Scan again</a></p><form method="post" action="/connect">';
const SSID_INPUT = '<label>Network name (SSID)<input name="s" id="s" maxlength="32" required autocomplete="off" autocapitalize="none" value="';
const PASSWORD_INPUT = '"></label><label>Password<input name="p" id="p" type="password" maxlength="63" autocomplete="off"';
const OPTIONAL =
  '></label><small>Leave empty for an open network.</small><details><summary>Device name and MQTT broker (optional)</summary>' +
  '<label>Device name<input name="n" id="n" maxlength="32" value="';
const BROKER_URL = '"></label><label>Broker URL<input name="b" id="b" maxlength="63" placeholder="mqtt://broker.local:1883" autocapitalize="none" value="';
const BROKER_USER = '"></label><label>Broker user<input name="u" id="u" maxlength="63" autocapitalize="none" value="';
const FORM_END = '"></label><label>Broker password<input name="w" id="w" type="password" maxlength="63"></label></details><button type="submit">Connect</button></form>';

export const renderPage = (view: PageView): string => {
  return renderPageParts(view).join('');
};

/**
 * The page as parts, in order: the server encodes and sends them one at a time, so the page is never
 * whole in memory, as text or as bytes (an ESP8266's heap is 32 KB; the page is ~2.5 KB).
 */
export const renderPageParts = (view: PageView): string[] => {
  const v = view.values;
  const out: string[] = [HEAD];
  if (view.refreshSeconds) out.push(`<meta http-equiv="refresh" content="${view.refreshSeconds};url=/">`);
  out.push(`<title>${escapeHtml(view.title)}</title><style>`, css, `</style></head><body><h1>Set up ${escapeHtml(view.title)}</h1>`);
  if (view.message) {
    out.push(`<p class="m ${view.message.kind}" role="${view.message.kind === 'error' ? 'alert' : 'status'}" id="msg">${escapeHtml(view.message.text)}</p>`);
  }
  if (!view.hideForm) {
    out.push(NETWORKS);
    for (const n of view.networks) {
      out.push(
        `<li><a href="/?s=${escapeHtml(percentEncode(n.ssid))}"><span>${escapeHtml(n.ssid)}</span>` +
          `<small>${escapeHtml(n.security)} <b title="${n.rssi} dBm">${bars(n.rssi)}</b></small></a></li>`,
      );
    }
    if (!view.networks.length) out.push(NO_NETWORKS);
    out.push(FORM_START, SSID_INPUT, escapeHtml(v.ssid ?? ''), PASSWORD_INPUT, view.focusPassword ? ' autofocus' : '', OPTIONAL, escapeHtml(v.deviceName ?? ''));
    out.push(BROKER_URL, escapeHtml(v.brokerUrl ?? ''), BROKER_USER, escapeHtml(v.brokerUser ?? ''), FORM_END);
  }
  out.push(`<footer>Device ${escapeHtml(view.deviceId)} · firmware ${escapeHtml(view.firmwareVersion)}</footer></body></html>`);
  return out;
};
