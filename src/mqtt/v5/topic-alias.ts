// Topic aliases (MQTT 5 section 3.3.2.3.4). They live for one network connection.
import { fail } from '../errors';

/**
 * Outgoing: the most recently used topics keep an alias (1..size). A topic without one takes a free
 * alias, or the least recently used topic's; the PUBLISH then carries the topic and the alias, and
 * later ones only the alias.
 */
export class OutgoingAliases {
  /** topic -> alias, least recently used first (a Map keeps insertion order). */
  readonly #map = new Map<string, number>();
  size = 0;

  /** Forgets every alias and allows `size` of them (0 disables). */
  reset(size: number): void {
    this.#map.clear();
    this.size = size;
  }

  /** The alias for `topic`: positive when the server already knows it, negative when this PUBLISH sets it; 0 when disabled. */
  alias(topic: string): number {
    const map = this.#map;
    const known = map.get(topic);
    if (known) {
      // most recently used goes last
      map.delete(topic);
      map.set(topic, known);
      return known;
    }
    if (!this.size) return 0;
    let alias = map.size + 1;
    if (alias > this.size) {
      const oldest = map.keys().next().value as string;
      alias = map.get(oldest)!;
      map.delete(oldest);
    }
    map.set(topic, alias);
    return -alias;
  }
}

/** Incoming: the server sets aliases (1..max, which we announced) and refers to them later. */
export class IncomingAliases {
  readonly #topics: string[] = [];
  max = 0;

  reset(max: number): void {
    this.#topics.length = 0;
    this.max = max;
  }

  /** The topic of a PUBLISH that carried `alias` (0 when none) and `topic` (empty when the alias stands for it). */
  resolve(topic: string, alias: number): string {
    if (!alias) {
      if (!topic) fail('protocol', 'PUBLISH with an empty topic and no topic alias');
      return topic;
    }
    if (alias > this.max) fail('topic-alias', `PUBLISH topic alias ${alias} is over the maximum of ${this.max} this client announced`);
    if (topic) this.#topics[alias] = topic;
    else {
      topic = this.#topics[alias];
      if (!topic) fail('protocol', `PUBLISH uses topic alias ${alias}, which the server never set on this connection`);
    }
    return topic;
  }
}
