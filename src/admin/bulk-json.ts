import { nextTurn } from "../turns.ts";

/** Bodies at least this long are parsed in slices (a bulk call of 10,000 resources is ~2.5 MB). */
export const SLICED_MIN_CHARS = 256 * 1024;
/** Text of the array per slice, about: ~5 ms of JSON.parse. */
const SLICE_CHARS = 192 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** `{"resources": [` with JSON's own whitespace only (a byte-order mark is not JSON whitespace). */
const HEAD = /^[ \t\n\r]*\{[ \t\n\r]*"resources"[ \t\n\r]*:[ \t\n\r]*\[/;
const TAIL = /^[ \t\n\r]*\}[ \t\n\r]*$/;
const BLANK = /^[ \t\n\r]*$/;

/**
 * `JSON.parse(text)` for an admin body, with a turn of the event loop between pieces of a large bulk
 * body, so that the requests that arrive meanwhile are answered between them: a 10,000-resource call's
 * parse held the event loop for 50–90 ms at once.
 *
 * Only a body shaped `{"resources": [ … ]}` with nothing else in the object is taken in pieces: the
 * array's text is cut at its own top-level commas (found by following strings, their escapes and the
 * nesting of brackets), and each piece parsed as an array of its elements. Anything else — a smaller
 * body, another shape, a piece that does not parse — is parsed whole by JSON.parse, which gives its
 * answer or its error: the result is always JSON.parse's.
 */
export async function parseAdminJson(
  text: string,
  /** Where pieces start and how long they are; smaller in tests only. */
  sizes = { minChars: SLICED_MIN_CHARS, sliceChars: SLICE_CHARS },
): Promise<unknown> {
  if (text.length < sizes.minChars) return JSON.parse(text);
  const head = HEAD.exec(text);
  if (!head) return JSON.parse(text);
  const elements: unknown[] = [];
  let from = head[0].length;
  let depth = 0;
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || (c === CLOSE_BRACKET && depth > 0)) depth--;
    else if (c === CLOSE_BRACKET) {
      // The array's end: the last piece, and then only the object's closing brace may follow.
      if (!piece(text.slice(from, i), elements, from === head[0].length) || !TAIL.test(text.slice(i + 1)))
        return JSON.parse(text);
      return { resources: elements };
    } else if (c === COMMA && depth === 0 && i - from >= sizes.sliceChars) {
      if (!piece(text.slice(from, i), elements, false)) return JSON.parse(text);
      from = i + 1;
      await nextTurn();
    }
  }
  return JSON.parse(text);
}

/**
 * Parses one piece (elements and the commas between them) onto `into`. False when it does not parse,
 * or is blank where an element must be: a leading or trailing comma around a cut would otherwise pass.
 * `only`: the piece is the whole array, which may be empty.
 */
function piece(text: string, into: unknown[], only: boolean): boolean {
  if (BLANK.test(text)) return only;
  let parsed: unknown[];
  try {
    parsed = JSON.parse(`[${text}]`) as unknown[];
  } catch {
    return false;
  }
  for (const element of parsed) into.push(element);
  return true;
}
