// A small XML reader for Wazuh's ossec.conf dialect. Why not a generic XML library: we need the
// line of every element and attribute for our error messages, and Wazuh's files are not
// well-formed XML documents: ossec.conf routinely holds several top-level <ossec_config> blocks
// (the Debian package appends one for <localfile> entries), and Wazuh's own reader
// (src/os_xml/os_xml.c) treats `\<` inside a value as a literal `<`.
//
// It is iterative (no recursion, so no stack overflow on deep input), uses only anchored regexes
// without backtracking, and reports every problem as an XmlSyntaxError: it is meant to survive
// arbitrary mutated input.

export interface XmlElement {
  name: string;
  /** Attribute values with entities decoded. Null-prototype object: any attribute name is safe. */
  attrs: Record<string, string>;
  /** Line of each attribute's name. */
  attrLines: Record<string, number>;
  /** Character data directly inside the element (entities decoded, CDATA included), trimmed. */
  text: string;
  children: XmlElement[];
  /** 1-based line and column of the `<` that opens the element. */
  line: number;
  column: number;
}

export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';

  constructor(
    /** What is wrong, without position (one line). */
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    /** Names of the elements open where the error was found, outermost first. */
    readonly path: readonly string[],
  ) {
    super(`${reason} (line ${line}, column ${column})`);
  }
}

const NAME = /[A-Za-z_][A-Za-z0-9_.:-]*/y;
const SPACE = /[ \t\r\n]*/y;
const IS_SPACE = /[ \t\r\n]/;
const ENTITY = /&(?:#x([0-9A-Fa-f]{1,8})|#([0-9]{1,10})|(lt|gt|amp|quot|apos));/g;
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Replaces the five predefined entities and numeric character references. An `&` that starts
 * none of them stays as written, as Wazuh (which decodes nothing) would read it.
 */
function decodeEntities(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(ENTITY, (whole: string, hex?: string, dec?: string, named?: string) => {
    if (named !== undefined) return NAMED_ENTITIES[named]!;
    const code = hex !== undefined ? parseInt(hex, 16) : Number(dec);
    const isScalarValue = code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
    return isScalarValue ? String.fromCodePoint(code) : whole;
  });
}

interface OpenElement {
  element: XmlElement;
  textParts: string[];
}

/** Parses a whole file and returns its top-level elements in order. */
export function parseXml(source: string): XmlElement[] {
  const src = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const lineStarts = [0];
  for (let i = src.indexOf('\n'); i !== -1; i = src.indexOf('\n', i + 1)) lineStarts.push(i + 1);

  const roots: XmlElement[] = [];
  const stack: OpenElement[] = [];
  let pos = 0;

  function position(at: number): { line: number; column: number } {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - lineStarts[lo]! + 1 };
  }

  function fail(reason: string, at: number, extraPath: readonly string[] = []): never {
    const { line, column } = position(at);
    throw new XmlSyntaxError(reason, line, column, [...stack.map((o) => o.element.name), ...extraPath]);
  }

  function matchAt(re: RegExp, at: number): string | undefined {
    re.lastIndex = at;
    return re.exec(src)?.[0];
  }

  function skipSpace(at: number): number {
    return at + matchAt(SPACE, at)!.length;
  }

  function addText(raw: string, at: number): void {
    const top = stack[stack.length - 1];
    if (top) top.textParts.push(decodeEntities(raw));
    else if (raw.trim() !== '') fail('text outside an element', at + raw.search(/\S/));
  }

  function closeElement(open: OpenElement): void {
    open.element.text = open.textParts.join('').trim();
    const parent = stack[stack.length - 1];
    (parent ? parent.element.children : roots).push(open.element);
  }

  /** Reads `<name attr="v" ...>` or `.../>` starting at `start` (the `<`); returns the end. */
  function readStartTag(start: number): number {
    const name = matchAt(NAME, start + 1);
    if (name === undefined) fail(`invalid element name after '<'`, start + 1);
    const { line, column } = position(start);
    const element: XmlElement = {
      name, attrs: Object.create(null), attrLines: Object.create(null), text: '', children: [], line, column,
    };
    let at = start + 1 + name.length;
    for (;;) {
      const afterSpace = skipSpace(at);
      if (src.startsWith('/>', afterSpace)) {
        closeElement({ element, textParts: [] });
        return afterSpace + 2;
      }
      if (src[afterSpace] === '>') {
        stack.push({ element, textParts: [] });
        return afterSpace + 1;
      }
      if (afterSpace >= src.length) fail(`unterminated tag <${name}>`, start, [name]);
      if (afterSpace === at) fail(`unexpected character '${src[at]}' in tag <${name}>`, at, [name]);
      at = readAttribute(element, afterSpace);
    }
  }

  function readAttribute(element: XmlElement, start: number): number {
    const tag = element.name;
    const attr = matchAt(NAME, start);
    if (attr === undefined) fail(`bad attribute syntax in <${tag}> at '${src[start]}'`, start, [tag]);
    let at = skipSpace(start + attr.length);
    if (src[at] !== '=') fail(`attribute '${attr}' of <${tag}> has no value`, start, [tag]);
    at = skipSpace(at + 1);
    const quote = src[at];
    if (quote !== '"' && quote !== "'") fail(`value of attribute '${attr}' of <${tag}> must be quoted`, at, [tag]);
    const end = src.indexOf(quote, at + 1);
    if (end === -1) fail(`unterminated value of attribute '${attr}' of <${tag}>`, at, [tag]);
    if (Object.hasOwn(element.attrs, attr)) fail(`duplicate attribute '${attr}' in <${tag}>`, start, [tag]);
    element.attrs[attr] = decodeEntities(src.slice(at + 1, end));
    element.attrLines[attr] = position(start).line;
    const next = end + 1;
    if (next < src.length && !IS_SPACE.test(src[next]!) && src[next] !== '>' && !src.startsWith('/>', next)) {
      fail(`missing space after attribute '${attr}' of <${tag}>`, next, [tag]);
    }
    return next;
  }

  function readEndTag(start: number): number {
    const name = matchAt(NAME, start + 2);
    if (name === undefined) fail(`invalid element name after '</'`, start + 2);
    const close = skipSpace(start + 2 + name.length);
    if (src[close] !== '>') fail(`bad closing tag </${name}>`, close);
    const open = stack[stack.length - 1];
    if (!open) fail(`closing tag </${name}> has no matching opening tag`, start);
    if (open.element.name !== name) {
      fail(`mismatched closing tag </${name}>: expected </${open.element.name}> (opened at line ${open.element.line})`, start);
    }
    stack.pop();
    closeElement(open);
    return close + 1;
  }

  /** Skips a construct that runs to `terminator`; returns the index after it. */
  function skipUntil(start: number, contentStart: number, terminator: string, what: string): number {
    const end = src.indexOf(terminator, contentStart);
    if (end === -1) fail(`unterminated ${what}`, start);
    return end + terminator.length;
  }

  while (pos < src.length) {
    const lt = nextMarkup(src, pos, stack.length > 0);
    if (lt > pos) addText(src.slice(pos, lt), pos);
    if (lt >= src.length) break;

    if (src.startsWith('<!--', lt)) {
      pos = skipUntil(lt, lt + 4, '-->', 'comment <!--');
    } else if (src.startsWith('<![CDATA[', lt)) {
      if (stack.length === 0) fail('CDATA section outside an element', lt);
      const end = skipUntil(lt, lt + 9, ']]>', 'CDATA section');
      stack[stack.length - 1]!.textParts.push(src.slice(lt + 9, end - 3));
      pos = end;
    } else if (src.startsWith('<?', lt)) {
      pos = skipUntil(lt, lt + 2, '?>', "processing instruction '<?'");
    } else if (src[lt + 1] === '!') {
      fail(`unsupported declaration '<!' (only comments and CDATA are allowed)`, lt);
    } else if (src[lt + 1] === '/') {
      pos = readEndTag(lt);
    } else {
      pos = readStartTag(lt);
    }
  }

  const unclosed = stack[stack.length - 1];
  if (unclosed) {
    const { line, column } = unclosed.element;
    throw new XmlSyntaxError(`unclosed tag <${unclosed.element.name}> opened at line ${line}`, line, column,
      stack.map((o) => o.element.name));
  }
  return roots;
}

/**
 * Index of the next `<` that starts markup, or the end of input. Inside an element, a `<`
 * preceded by an odd number of backslashes is part of the value, as in Wazuh's reader.
 */
function nextMarkup(src: string, from: number, insideElement: boolean): number {
  for (let lt = src.indexOf('<', from); lt !== -1; lt = src.indexOf('<', lt + 1)) {
    let backslashes = 0;
    while (lt - backslashes - 1 >= from && src[lt - backslashes - 1] === '\\') backslashes++;
    if (!insideElement || backslashes % 2 === 0) return lt;
  }
  return src.length;
}
