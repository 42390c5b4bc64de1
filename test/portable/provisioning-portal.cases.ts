// The portal's HTTP handler and page, with a scripted context in place of the state machine.
import { equal, ok, suite } from '../../hosts/xs/harness';
import { defaultHttpLimits } from '../../src/http/limits';
import { RequestParser, type HttpRequest } from '../../src/http/request-parser';
import type { HttpResponse } from '../../src/http/response';
import { createPortalHandler, PROBE_PATHS, ProvisioningBusyError, type PortalContext, type PortalStatus } from '../../src/provisioning/portal';
import { escapeHtml, renderPage } from '../../src/provisioning/portal-page';
import type { ExtraSettings, WiFiCredentials } from '../../src/provisioning/validate';

function request(text: string): HttpRequest {
  const b = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i);
  const r = new RequestParser(defaultHttpLimits).push(b);
  ok(r, 'complete request');
  return r;
}

function get(path: string, host = '192.168.4.1'): HttpRequest {
  return request(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
}

function post(body: string, type = 'application/x-www-form-urlencoded'): HttpRequest {
  return request(`POST /connect HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
}

function header(r: HttpResponse, name: string): string | undefined {
  return r.headers?.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

function body(r: HttpResponse): string {
  return typeof r.body === 'string' ? r.body : Array.isArray(r.body) ? r.body.join('') : '';
}

class Context implements PortalContext {
  title = 'nodemcu-A1B2C3';
  deviceId = 'a4cf12a1b2c3';
  firmwareVersion = '1.2.3';
  current: PortalStatus = { kind: 'idle' };
  submitted: Array<[WiFiCredentials, ExtraSettings]> = [];
  scans = 0;
  uses = 0;
  busy = false;
  nets = [
    { ssid: 'Home <5G>', rssi: -48, security: 'WPA2' },
    { ssid: 'Café "Libre"', rssi: -80, security: 'open' },
  ];
  origin() {
    return 'http://192.168.4.1/';
  }
  networks() {
    return this.nets;
  }
  status() {
    return this.current;
  }
  requestScan() {
    this.scans++;
  }
  submit(c: WiFiCredentials, e: ExtraSettings) {
    if (this.busy) throw new ProvisioningBusyError('Still trying “X”; wait a moment and reload.');
    this.submitted.push([c, e]);
  }
  activity() {
    this.uses++;
  }
}

export default suite('provisioning portal', (test) => {
  test('every OS probe gets a 302 to the page (not 204, not "Success", not "Microsoft Connect Test")', () => {
    const ctx = new Context();
    const handle = createPortalHandler(ctx);
    for (const path of PROBE_PATHS) {
      const r = handle(get(path, 'probe.example'));
      equal(r.status, 302, path);
      equal(header(r, 'Location'), 'http://192.168.4.1/', path);
      equal(header(r, 'Cache-Control'), 'no-store', path);
    }
    equal(handle(get('/some/other?x=1', 'example.com')).status, 302);
    equal(ctx.uses, PROBE_PATHS.length + 1, 'each request counts as portal activity');
  });

  test('the page lists networks (escaped), the device id and firmware version', () => {
    const r = createPortalHandler(new Context())(get('/'));
    equal(r.status, 200);
    equal(header(r, 'Content-Type'), 'text/html; charset=utf-8');
    const html = body(r);
    ok(html.includes('<span>Home &lt;5G&gt;</span><small>WPA2 <b title="-48 dBm">▂▄▆█</b>'), 'SSID escaped, security and signal shown');
    ok(html.includes('<span>Café &quot;Libre&quot;</span><small>open <b title="-80 dBm">▂</b>'), 'quotes escaped, open network');
    ok(html.includes('href="/?s=Home%20%3C5G%3E"'), 'network link carries the SSID');
    ok(html.includes('Device a4cf12a1b2c3 · firmware 1.2.3'));
    ok(!/<script|src=|https?:\/\/(?!192)/.test(html), 'no scripts or external resources');
    ok(html.length < 4096, `small page (${html.length} bytes)`);
  });

  test('choosing a network pre-fills the SSID and focuses the password', () => {
    const html = body(createPortalHandler(new Context())(get('/?s=Caf%C3%A9%20%22Libre%22')));
    ok(html.includes('value="Café &quot;Libre&quot;"'));
    ok(html.includes('type="password" maxlength="63" autocomplete="off" autofocus'));
  });

  test('"Scan again" asks for a scan and redirects to the page', () => {
    const ctx = new Context();
    const r = createPortalHandler(ctx)(get('/?scan=1'));
    equal(r.status, 303);
    equal(header(r, 'Location'), '/');
    equal(ctx.scans, 1);
  });

  test('a valid form is handed over and answered with 303 to the status page', () => {
    const ctx = new Context();
    const r = createPortalHandler(ctx)(post('s=My+Net&p=correct%20horse&n=Kitchen&b=mqtt%3A%2F%2Fbroker.local%3A1883&u=dev&w=pw'));
    equal(r.status, 303);
    equal(header(r, 'Location'), '/');
    equal(ctx.submitted, [[{ ssid: 'My Net', password: 'correct horse' }, { deviceName: 'Kitchen', brokerUrl: 'mqtt://broker.local:1883', brokerUser: 'dev', brokerPassword: 'pw' }]]);
  });

  test('invalid input: 400 with the message in the page, values kept, passwords not echoed', () => {
    const ctx = new Context();
    const r = createPortalHandler(ctx)(post('s=My+Net&p=short&n=Kitchen&w=brokersecret'));
    equal(r.status, 400);
    const html = body(r);
    ok(html.includes('role="alert" id="msg">The Wi-Fi password must be 8 to 63 characters (it has 5)'), html);
    ok(html.includes('value="My Net"'));
    ok(html.includes('value="Kitchen"'));
    ok(!html.includes('short') && !html.includes('brokersecret'), 'passwords are not sent back');
    equal(ctx.submitted.length, 0);
  });

  test('an SSID with markup is escaped in the error page', () => {
    const html = body(createPortalHandler(new Context())(post(`s=${encodeURIComponent('<b>x</b>'.repeat(5))}&p=12345678`)));
    ok(html.includes('value="&lt;b&gt;x&lt;/b&gt;'), 'escaped');
    ok(!html.includes('<b>x'), 'no raw markup');
  });

  test('bad percent-encoding in the form: 400 with a message, nothing handed over', () => {
    const ctx = new Context();
    const r = createPortalHandler(ctx)(post('s=%ZZ&p=12345678'));
    equal(r.status, 400);
    ok(body(r).includes('The form could not be read'));
    equal(ctx.submitted.length, 0);
  });

  test('a duplicated field: 400 naming the field, nothing handed over', () => {
    const cases: Array<[string, string]> = [
      ['s=Home&s=Neighbour&p=12345678', '“Network name (SSID)” (s) more than once'],
      ['s=Home&p=12345678&p=87654321', '“Password” (p) more than once'],
      ['s=Home&p=12345678&b=mqtt%3A%2F%2Fa&b=mqtt%3A%2F%2Fb', '“Broker URL” (b) more than once'],
      ['s=Home&p=12345678&x=1&x=2', 'the form field &quot;x&quot; is given more than once'],
    ];
    for (const [form, says] of cases) {
      const ctx = new Context();
      const r = createPortalHandler(ctx)(post(form));
      equal(r.status, 400, form);
      const html = body(r);
      ok(html.includes('role="alert" id="msg">'), form);
      ok(html.includes(says), `${form}: ${html}`);
      equal(ctx.submitted.length, 0, form);
    }
  });

  test('a link with a duplicated SSID shows the page without choosing one of them', () => {
    const r = createPortalHandler(new Context())(get('/?s=Home&s=Neighbour'));
    equal(r.status, 200);
    const html = body(r);
    ok(html.includes('<input name="s" id="s" maxlength="32" required autocomplete="off" autocapitalize="none" value="">'), html);
    ok(!html.includes('value="Home"') && !html.includes('value="Neighbour"'));
  });

  test('a form in another encoding: 415', () => {
    const ctx = new Context();
    equal(createPortalHandler(ctx)(post('{"s":"x"}', 'application/json')).status, 415);
    equal(ctx.submitted.length, 0);
  });

  test('while an attempt runs, another submission gets 409 and a retry hint', () => {
    const ctx = new Context();
    ctx.busy = true;
    const r = createPortalHandler(ctx)(post('s=Net&p=12345678'));
    equal(r.status, 409);
    ok(body(r).includes('Still trying'));
  });

  test('status: testing refreshes without the form; failed shows the error with the SSID kept', () => {
    const ctx = new Context();
    const handle = createPortalHandler(ctx);
    ctx.current = { kind: 'testing', ssid: 'My <Net>' };
    let html = body(handle(get('/')));
    ok(html.includes('<meta http-equiv="refresh" content="2;url=/">'));
    ok(html.includes('Connecting to “My &lt;Net&gt;”…'));
    ok(!html.includes('<form'));
    ctx.current = { kind: 'failed', ssid: 'My <Net>', message: 'Wrong password for “My <Net>”. Check it and try again.' };
    html = body(handle(get('/')));
    ok(html.includes('class="m error" role="alert" id="msg">Wrong password for “My &lt;Net&gt;”.'));
    ok(html.includes('value="My &lt;Net&gt;"'));
    ok(!html.includes('http-equiv="refresh"'));
    ctx.current = { kind: 'connected', ssid: 'My Net', ip: '192.168.1.50' };
    html = body(handle(get('/')));
    ok(html.includes('Connected to “My Net” with address 192.168.1.50'));
  });

  test('GET /connect goes to the page; POST / is not allowed; HEAD works', () => {
    const handle = createPortalHandler(new Context());
    equal(handle(get('/connect')).status, 302);
    equal(handle(request('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')).status, 405);
    equal(handle(request('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
  });

  test('escapeHtml covers the five special characters', () => {
    equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  test('renderPage without networks says so', () => {
    const html = renderPage({ title: 't', deviceId: 'd', firmwareVersion: 'v', networks: [], values: {} });
    ok(html.includes('No networks found yet.'));
  });
});
