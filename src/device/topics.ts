// The one place that knows the topic layout. Everything else asks this module.
//
//   <prefix>/<id>/status               retained presence (birth "online", will and stop "offline")
//   <prefix>/<id>/heartbeat            periodic health
//   <prefix>/<id>/telemetry/<sensor>   readings of one sensor
//   <prefix>/<id>/cmd/<name>           command requests
//   <prefix>/<id>/cmd/<name>/result    command results
//   <prefix>/<id>/ota                  retained OTA progress
//   <discovery>/<component>/<id>/<object>/config   Home Assistant discovery (retained)

export class Topics {
  readonly base: string;
  readonly status: string;
  readonly heartbeat: string;
  readonly ota: string;
  readonly commands: string;

  constructor(readonly prefix: string, readonly deviceId: string, readonly discoveryPrefix = 'homeassistant') {
    this.base = `${prefix}/${deviceId}`;
    this.status = `${this.base}/status`;
    this.heartbeat = `${this.base}/heartbeat`;
    this.ota = `${this.base}/ota`;
    this.commands = `${this.base}/cmd/+`;
  }

  telemetry(sensor: string): string {
    return `${this.base}/telemetry/${sensor}`;
  }

  command(name: string): string {
    return `${this.base}/cmd/${name}`;
  }

  commandResult(name: string): string {
    return `${this.base}/cmd/${name}/result`;
  }

  /** The command name of a request topic, or undefined when the topic is not one. */
  commandName(topic: string): string | undefined {
    const head = `${this.base}/cmd/`;
    if (!topic.startsWith(head)) return undefined;
    const name = topic.slice(head.length);
    return name && name.indexOf('/') < 0 ? name : undefined;
  }

  discovery(component: 'sensor' | 'binary_sensor', objectId: string): string {
    return `${this.discoveryPrefix}/${component}/${this.deviceId}/${objectId}/config`;
  }

  get discoveryStatus(): string {
    return `${this.discoveryPrefix}/status`;
  }
}

/** Topic level check for names we put into topics (prefix, device id, sensor names). */
export const isTopicLevel = (text: string): boolean => {
  return text.length > 0 && text.length <= 64 && text.indexOf('+') < 0 && text.indexOf('#') < 0 && text.indexOf('/') < 0 && text.indexOf('\u0000') < 0;
};
