// The MQTT 3.1.1 client over WebSocket, as a firmware that uses ws:// or wss:// bundles it.
export { MqttClient } from '../../src/mqtt/client';
export { webSocketNetwork, parseWebSocketUrl } from '../../src/transport/websocket';
