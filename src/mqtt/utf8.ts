// MQTT strings (3.1.1 section 1.5.3, MQTT 5 section 1.5.4) on the shared codec (src/text/utf8.ts):
// well-formed UTF-8 without U+0000. What the client sends is encoded lossily (a lone surrogate goes
// out as U+FFFD rather than failing a publish); what it receives breaking a rule is a protocol error.
import { TextError } from '../text/errors';
import { nativeText, utf8Decode } from '../text/utf8';
import { MqttProtocolError } from './errors';

export { nativeText, utf8EncodeLossy as encodeUtf8 } from '../text/utf8';

/**
 * Decodes bytes[start, end) strictly, refusing U+0000; `what` names the field in the error. (The hot
 * path, an ASCII topic, is read before it comes here: reader.ts readTopic.)
 */
export const decodeUtf8 = (bytes: Uint8Array, start: number, end: number, what = 'string'): string => {
  try {
    return utf8Decode(bytes, start, end, true);
  } catch (error) {
    if (error instanceof TextError) throw new MqttProtocolError('bad-utf8', `invalid UTF-8 in ${what} (${error.message})`);
    throw error;
  }
};
