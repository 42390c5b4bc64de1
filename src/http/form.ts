// application/x-www-form-urlencoded bodies (and query strings) to a name -> value map.
import { HttpError, asHttpError } from './errors';
import { percentDecode } from '../text/percent';

/** Longest field name quoted in an error message. */
const MAX_NAME_IN_MESSAGE = 32;

/**
 * Decodes `a=1&b=2`. A name given twice is an error (which value was meant is unknown), and so are
 * more than `maxFields` fields.
 */
export const parseForm = (bytes: Uint8Array, maxFields = 16): Map<string, string> => {
  const fields = new Map<string, string>();
  let start = 0;
  let count = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x26, start); // '&'
    if (end < 0) end = bytes.length;
    if (end > start) {
      if (++count > maxFields) throw new HttpError('too-many-fields', 400, `the form has more than ${maxFields} fields`);
      let eq = bytes.indexOf(0x3d, start); // '='
      if (eq < 0 || eq > end) eq = end;
      let name: string;
      let value: string;
      try {
        name = percentDecode(bytes, start, eq, true, 'a form field name');
        value = eq < end ? percentDecode(bytes, eq + 1, end, true, `form field "${name}"`) : '';
      } catch (error) {
        throw asHttpError(error);
      }
      if (fields.has(name)) {
        const shown = name.length > MAX_NAME_IN_MESSAGE ? name.slice(0, MAX_NAME_IN_MESSAGE) + '…' : name;
        throw new HttpError('duplicate-field', 400, `the form field "${shown}" is given more than once`, name);
      }
      fields.set(name, value);
    }
    start = end + 1;
  }
  return fields;
};

/** Query string (the part after "?") to a map, same rules as a form body. */
export const parseQuery = (query: string, maxFields = 16): Map<string, string> => {
  const bytes = new Uint8Array(query.length);
  for (let i = 0; i < query.length; i++) bytes[i] = query.charCodeAt(i) & 0xff;
  return parseForm(bytes, maxFields);
};
