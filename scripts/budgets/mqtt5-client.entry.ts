// The MQTT client as a firmware that speaks MQTT 5 bundles it: the client and mqtt5().
export { MqttClient } from '../../src/mqtt/client';
export { mqtt5 } from '../../src/mqtt/v5/protocol';
