// Commands over request/response. A request on <base>/cmd/<name> is JSON:
//   {"id": "42", "args": {...}}                                       reply on <base>/cmd/<name>/result
//   {"id": "42", "responseTopic": "app/replies", "correlationData": "abc", "args": {...}}
// The reply carries the same id (and correlation data), a status and a result or an error:
//   {"id": "42", "status": "ok", "result": {...}}    {"id": "42", "status": "error", "error": "..."}
// Over MQTT 5 the request's Response Topic and Correlation Data properties say where to reply and
// come back as properties of the reply (content type application/json); the JSON fields above still
// work, for MQTT 3.1.1 and for requesters that use them.
// Bad requests (an empty payload, malformed JSON, unknown command, invalid arguments) get an error
// reply, never a crash. A response topic the device must not publish on (see reply-space.ts) gets the
// error on the usual result topic.
import type { Properties, PublishProperties } from '../mqtt/properties';

type CommandResult = Record<string, unknown> | undefined;

export class CommandError extends Error {
}
CommandError.prototype.name = 'CommandError';

export interface CommandContext {
  args: Record<string, unknown>;
  /**
   * Replies later (return 'async' from the handler then). `after` runs once the broker acknowledged
   * the reply, e.g. to reboot only when the caller surely got the answer.
   */
  reply(error: Error | undefined, result?: CommandResult, after?: () => void): void;
}

/** Returns a result at once, or 'async' when it will call ctx.reply itself. Throw to fail. */
export type CommandHandler = (ctx: CommandContext) => CommandResult | 'async';

export interface Reply {
  topic: string;
  payload: string;
  /** MQTT 5 only: set when the request came with MQTT 5 properties. */
  properties?: PublishProperties;
  /** Runs after the reply was acknowledged by the broker (e.g. a reboot). */
  after?: () => void;
}

/**
 * Where the commands' replies go, and the commands of the owner itself. An object whose methods these
 * are (the device's is a class), so the commands cost the heap no closures.
 */
export interface CommandHost {
  /** The default reply topic of command `name`. */
  resultTopic(name: string): string;
  send(reply: Reply): void;
  /**
   * Why a reply must not go to `topic` ('' when it may): the device passes the reply space of its
   * configuration. Without it any topic name is accepted.
   */
  replyProblem?(topic: string): string;
  /** The names of the host's own commands, which run() answers (registered handlers come first). */
  readonly builtins?: readonly string[];
  run?(name: string, ctx: CommandContext): CommandResult | 'async';
}

const MAX_REQUEST = 4096;

export class Commands {
  /** Handlers registered beside the host's own commands; made at the first register(). */
  private handlers: Map<string, CommandHandler> | undefined;

  constructor(private readonly host: CommandHost) {}

  register(name: string, handler: CommandHandler): void {
    (this.handlers ??= new Map()).set(name, handler);
  }

  get names(): string[] {
    const names = this.host.builtins ? this.host.builtins.slice() : [];
    if (this.handlers) for (const name of this.handlers.keys()) if (names.indexOf(name) < 0) names.push(name);
    return names;
  }

  /**
   * A request the client could not read, being over its maxPacketSize (it acknowledged it, so the broker
   * stops sending it): an error reply on the default result topic. The request's id is in the unread
   * body, so the reply's id is null; MQTT 5 correlation data comes back when the client kept it.
   */
  refuseUnread(name: string, message: string, mqtt5?: Properties): void {
    const topic = this.host.resultTopic(name);
    const payload = JSON.stringify({ id: null, status: 'error', error: message });
    if (!mqtt5) return this.host.send({ topic, payload });
    const properties: PublishProperties = { contentType: 'application/json', payloadFormatIndicator: true };
    if (mqtt5.correlationData) properties.correlationData = mqtt5.correlationData;
    this.host.send({ topic, payload, properties });
  }

  /** `mqtt5`: the request's MQTT 5 properties (undefined with MQTT 3.1.1). */
  handle(name: string, payload: Uint8Array, decode: (b: Uint8Array) => string, mqtt5?: Properties): void {
    const host = this.host;
    // one object per request answers it (the handlers' ctx): methods, not closures copied into the heap
    const r = new Request(host, host.resultTopic(name));
    // MQTT 5: Response Topic and Correlation Data properties; a Response Topic that is no topic name
    // (the broker passes it on unchecked) or lies outside the reply space gets the error on the
    // usual result topic
    let badResponseTopic = '';
    if (mqtt5) {
      const properties: PublishProperties = (r.properties = { contentType: 'application/json', payloadFormatIndicator: true });
      if (mqtt5.correlationData) properties.correlationData = mqtt5.correlationData;
      const t = mqtt5.responseTopic;
      if (t !== undefined) {
        badResponseTopic = validTopic(t) ? this.confined(t, 'the Response Topic property') : 'the Response Topic property must be a topic name without wildcards';
        if (!badResponseTopic) r.topic = t;
      }
    }
    // The reply's methods end in tail calls (`return`), so no frame of theirs stays under the publish.
    if (badResponseTopic) return r.answer(new CommandError(badResponseTopic));
    if (payload.length > MAX_REQUEST) return r.answer(new CommandError(`request of ${payload.length} bytes is over the ${MAX_REQUEST}-byte limit`));
    if (!payload.length) return r.answer(new CommandError('empty request: send a JSON object, e.g. {"id":"1"}'));
    let request: Record<string, unknown>;
    try {
      const text = decode(payload);
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CommandError('the request must be a JSON object');
      request = r.request = parsed as Record<string, unknown>;
    } catch (error) {
      return r.answer(new CommandError(error instanceof CommandError ? error.message : `malformed JSON: ${(error as Error).message}`));
    }
    if (request.id !== undefined && typeof request.id !== 'string' && typeof request.id !== 'number') {
      request.id = undefined;
      return r.answer(new CommandError('"id" must be a string or a number'));
    }
    if (request.responseTopic !== undefined && !(mqtt5 && mqtt5.responseTopic)) {
      const t = request.responseTopic;
      if (typeof t !== 'string' || !validTopic(t)) return r.answer(new CommandError('"responseTopic" must be a topic name without wildcards'));
      const problem = this.confined(t, 'responseTopic');
      if (problem) return r.answer(new CommandError(problem));
      r.topic = t;
    }
    const handler = this.handlers?.get(name);
    if (!handler && !(host.run && host.builtins && host.builtins.indexOf(name) >= 0)) return r.answer(new CommandError(`unknown command "${name}"; known: ${this.names.join(', ')}`));
    const args = request.args ?? {};
    if (typeof args !== 'object' || args === null || Array.isArray(args)) return r.answer(new CommandError('"args" must be a JSON object'));
    r.args = args as Record<string, unknown>;
    let result: CommandResult | 'async';
    try {
      result = handler ? handler(r) : host.run!(name, r);
    } catch (error) {
      return r.reply(error instanceof Error ? error : new CommandError(String(error)));
    }
    if (result !== 'async') return r.reply(undefined, result);
  }

  /** Why a reply must not go to topic `t`, named `what` in the message; '' when it may. */
  private confined(t: string, what: string): string {
    const problem = this.host.replyProblem?.(t);
    return problem ? `${what} "${t}" ${problem}` : '';
  }
}

const validTopic = (t: string): boolean => {
  return !!t && t.length <= 256 && t.indexOf('+') < 0 && t.indexOf('#') < 0 && t.indexOf('\u0000') < 0;
};

const NO_ARGS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** One request on its way to its reply: the handler's ctx. */
class Request implements CommandContext {
  args = NO_ARGS;
  /** The parsed request, once it parsed (its id and correlation data go back in the reply). */
  request: Record<string, unknown> | undefined;
  /** MQTT 5: the reply's properties. */
  properties: PublishProperties | undefined;
  private replied = false;

  constructor(
    private readonly host: CommandHost,
    /** Where the reply goes. */
    public topic: string,
  ) {}

  /** Replies once; later calls do nothing. */
  reply(error: Error | undefined, result?: CommandResult, after?: () => void): void {
    if (this.replied) return;
    this.replied = true;
    return this.answer(error, result, after);
  }

  answer(error: Error | undefined, result?: CommandResult, after?: () => void): void {
    const request = this.request;
    const body: Record<string, unknown> = { id: request?.id ?? null };
    if (request?.correlationData !== undefined) body.correlationData = request.correlationData;
    if (error) {
      body.status = 'error';
      body.error = error.message;
    } else {
      body.status = 'ok';
      if (result !== undefined) body.result = result;
    }
    let text: string;
    try {
      text = JSON.stringify(body);
    } catch (problem) {
      // a result JSON cannot carry (a BigInt, a cycle): the requester still gets an answer
      const failed: Record<string, unknown> = { id: body.id };
      if (body.correlationData !== undefined) failed.correlationData = body.correlationData;
      failed.status = 'error';
      failed.error = `the result cannot be sent as JSON: ${(problem as Error).message}`;
      text = JSON.stringify(failed);
    }
    const topic = this.topic;
    return this.host.send(this.properties ? { topic, payload: text, properties: this.properties, after } : { topic, payload: text, after });
  }
}
