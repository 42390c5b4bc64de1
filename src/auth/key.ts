// Shared-key decoding for the token providers: keys arrive base64-encoded from the cloud console.
import { base64Decode } from '../text/base64';
import { TextError } from '../text/errors';
import { AuthError } from './errors';

export function decodeKey(key: string | Uint8Array, what: string): Uint8Array {
  if (key instanceof Uint8Array) {
    if (key.length === 0) throw new AuthError('bad-key', `${what} is empty`);
    return key;
  }
  if (typeof key !== 'string' || key.length === 0) {
    throw new AuthError('bad-key', `${what} is missing: give the base64 key shown by the cloud console`);
  }
  try {
    return base64Decode(key.trim());
  } catch (error) {
    if (error instanceof TextError) {
      throw new AuthError('bad-key', `${what} is not valid base64 (${error.message}); copy it again from the cloud console`);
    }
    throw error;
  }
}
