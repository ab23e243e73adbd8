import { expect } from 'chai';
import { parseXml, XmlSyntaxError, type XmlElement } from '../../src/config/xml.js';

/** The element tree without positions, for compact deep comparisons. */
interface Shape { name: string; attrs?: Record<string, string>; text?: string; children?: Shape[] }
function shape(el: XmlElement): Shape {
  const s: Shape = { name: el.name };
  if (Object.keys(el.attrs).length > 0) s.attrs = { ...el.attrs };
  if (el.text !== '') s.text = el.text;
  if (el.children.length > 0) s.children = el.children.map(shape);
  return s;
}

function parseError(source: string): XmlSyntaxError {
  try {
    parseXml(source);
  } catch (e) {
    expect(e).to.be.instanceOf(XmlSyntaxError);
    return e as XmlSyntaxError;
  }
  expect.fail(`no syntax error for ${JSON.stringify(source)}`);
}

describe('config/xml: parseXml', () => {
  it('records the line and column of every element and attribute', () => {
    const source = [
      '<?xml version="1.0" encoding="UTF-8"?>', // 1
      '<ossec_config>', //                         2
      '  <client>', //                             3
      '    <server>', //                           4
      '      <address>10.0.0.1</address>', //      5
      '    </server>', //                          6
      '  </client>', //                            7
      '  <labels>', //                             8
      '    <label key="a"', //                     9
      '           hidden="yes">x</label>', //      10
      '  </labels>', //                            11
      '</ossec_config>', //                        12
    ].join('\n');
    const [root] = parseXml(source);
    const client = root!.children[0]!;
    const address = client.children[0]!.children[0]!;
    const label = root!.children[1]!.children[0]!;
    expect([root!.line, root!.column]).to.deep.equal([2, 1]);
    expect([client.line, client.column]).to.deep.equal([3, 3]);
    expect([address.line, address.column, address.text]).to.deep.equal([5, 7, '10.0.0.1']);
    expect([label.line, { ...label.attrLines }]).to.deep.equal([9, { key: 9, hidden: 10 }]);
  });

  it('counts lines inside comments, CDATA and attribute values, and with CRLF line ends', () => {
    const source = '<!-- one\ntwo\nthree -->\r\n<a x="1\n2"><![CDATA[\n]]>\r\n<b/></a>';
    const [a] = parseXml(source);
    expect(a!.line).to.equal(4);
    expect(a!.attrs['x']).to.equal('1\n2');
    expect(a!.children[0]!.line).to.equal(7);
  });

  it('returns every top-level element of a file with several roots', () => {
    const roots = parseXml('<ossec_config><client/></ossec_config>\n\n<ossec_config>\n<localfile/>\n</ossec_config>\n');
    expect(roots.map(shape)).to.deep.equal([
      { name: 'ossec_config', children: [{ name: 'client' }] },
      { name: 'ossec_config', children: [{ name: 'localfile' }] },
    ]);
    expect(roots.map((r) => r.line)).to.deep.equal([1, 3]);
  });

  const accepted: { name: string; source: string; tree: Shape[] }[] = [
    { name: 'empty input', source: '', tree: [] },
    { name: 'only a prolog and comments', source: '<?xml version="1.0"?>\n<!-- nothing -->\n', tree: [] },
    { name: 'a byte order mark', source: '\uFEFF<a/>', tree: [{ name: 'a' }] },
    { name: 'self-closing tags with and without space', source: '<a><b/><c />\n<d x="1"/></a>', tree: [
      { name: 'a', children: [{ name: 'b' }, { name: 'c' }, { name: 'd', attrs: { x: '1' } }] },
    ] },
    { name: 'comments between, inside and around elements', source: '<!--x--><a><!-- <b/> --><c>1<!--2-->3</c></a><!--y-->', tree: [
      { name: 'a', children: [{ name: 'c', text: '13' }] },
    ] },
    { name: 'single and double quotes, spaces around =', source: `<a x = 'say "hi"' y="it's" z=''/>`, tree: [
      { name: 'a', attrs: { x: 'say "hi"', y: "it's", z: '' } },
    ] },
    { name: 'the five predefined entities, in text and attributes', source: '<a q="&quot;&apos;">&lt;&gt;&amp;</a>', tree: [
      { name: 'a', attrs: { q: `"'` }, text: '<>&' },
    ] },
    { name: 'numeric character references', source: '<a>&#65;&#x42;&#x1F600;</a>', tree: [{ name: 'a', text: 'AB\u{1F600}' }] },
    { name: 'an & that starts no reference (kept as written)', source: '<a>x && y &nbsp; &#0; &#x110000;</a>', tree: [
      { name: 'a', text: 'x && y &nbsp; &#0; &#x110000;' },
    ] },
    { name: 'CDATA (kept verbatim)', source: '<a><![CDATA[<b>&amp;</b>]]></a>', tree: [{ name: 'a', text: '<b>&amp;</b>' }] },
    { name: 'white space around text (trimmed)', source: '<a>\n   spaced out \t\n</a>', tree: [{ name: 'a', text: 'spaced out' }] },
    { name: "Wazuh's \\< escape inside a value", source: '<a>x\\<y</a>', tree: [{ name: 'a', text: 'x\\<y' }] },
    { name: 'two backslashes before < (no escape)', source: '<a>x\\\\<b/></a>', tree: [
      { name: 'a', text: 'x\\\\', children: [{ name: 'b' }] },
    ] },
    { name: 'names with - _ . and :', source: '<time-reconnect><a_b.c:d/></time-reconnect>', tree: [
      { name: 'time-reconnect', children: [{ name: 'a_b.c:d' }] },
    ] },
    { name: 'attribute names that exist on Object.prototype', source: '<a __proto__="1" constructor="2"/>', tree: [
      { name: 'a', attrs: { ['__proto__']: '1', constructor: '2' } },
    ] },
  ];
  for (const { name, source, tree } of accepted) {
    it(`accepts ${name}`, () => {
      expect(parseXml(source).map(shape)).to.deep.equal(tree);
    });
  }

  const rejected: { name: string; source: string; line: number; column: number; reason: RegExp; path: string[] }[] = [
    { name: 'an element left open at the end', source: '<a>\n  <b>\n  </b>\n', line: 1, column: 1,
      reason: /^unclosed tag <a> opened at line 1$/, path: ['a'] },
    { name: 'a mismatched closing tag', source: '<a>\n  <b>\n</a>', line: 3, column: 1,
      reason: /^mismatched closing tag <\/a>: expected <\/b> \(opened at line 2\)$/, path: ['a', 'b'] },
    { name: 'a closing tag with nothing open', source: '<a/>\n</a>', line: 2, column: 1,
      reason: /^closing tag <\/a> has no matching opening tag$/, path: [] },
    { name: 'a bad closing tag', source: '<a></a x>', line: 1, column: 8, reason: /^bad closing tag <\/a>$/, path: ['a'] },
    { name: 'an attribute without value', source: '<a>\n<b c></b></a>', line: 2, column: 4,
      reason: /^attribute 'c' of <b> has no value$/, path: ['a', 'b'] },
    { name: 'an unquoted attribute value', source: '<a c=1/>', line: 1, column: 6,
      reason: /^value of attribute 'c' of <a> must be quoted$/, path: ['a'] },
    { name: 'an unterminated attribute value', source: '<a c="1>\n</a>', line: 1, column: 6,
      reason: /^unterminated value of attribute 'c' of <a>$/, path: ['a'] },
    { name: 'a duplicate attribute', source: '<a c="1"\n c="2"/>', line: 2, column: 2,
      reason: /^duplicate attribute 'c' in <a>$/, path: ['a'] },
    { name: 'attributes not separated by space', source: '<a c="1"d="2"/>', line: 1, column: 9,
      reason: /^missing space after attribute 'c' of <a>$/, path: ['a'] },
    { name: 'garbage where an attribute should be', source: '<a c="1" $/>', line: 1, column: 10,
      reason: /^bad attribute syntax in <a> at '\$'$/, path: ['a'] },
    { name: 'a bad character after the element name', source: '<a$>', line: 1, column: 3,
      reason: /^unexpected character '\$' in tag <a>$/, path: ['a'] },
    { name: 'a tag cut by the end of input', source: '<a>\n<b c="1"', line: 2, column: 1,
      reason: /^unterminated tag <b>$/, path: ['a', 'b'] },
    { name: 'an invalid element name', source: '<a>\n< b/></a>', line: 2, column: 2,
      reason: /^invalid element name after '<'$/, path: ['a'] },
    { name: 'an element name starting with a digit', source: '<1a/>', line: 1, column: 2,
      reason: /^invalid element name after '<'$/, path: [] },
    { name: 'an invalid closing name', source: '<a></ a>', line: 1, column: 6, reason: /^invalid element name after '<\/'$/, path: ['a'] },
    { name: 'an unterminated comment', source: '<a>\n<!-- no end\n</a>', line: 2, column: 1,
      reason: /^unterminated comment <!--$/, path: ['a'] },
    { name: 'an unterminated CDATA section', source: '<a><![CDATA[x</a>', line: 1, column: 4,
      reason: /^unterminated CDATA section$/, path: ['a'] },
    { name: 'CDATA outside an element', source: '<![CDATA[x]]>', line: 1, column: 1,
      reason: /^CDATA section outside an element$/, path: [] },
    { name: 'an unterminated processing instruction', source: '<?xml version="1.0"\n<a/>', line: 1, column: 1,
      reason: /^unterminated processing instruction/, path: [] },
    { name: 'a DOCTYPE declaration', source: '<!DOCTYPE a>\n<a/>', line: 1, column: 1, reason: /^unsupported declaration/, path: [] },
    { name: 'text before the first element', source: 'hello\n<a/>', line: 1, column: 1, reason: /^text outside an element$/, path: [] },
    { name: 'text after the last element', source: '<a/>\n\n  :wq\n', line: 3, column: 3, reason: /^text outside an element$/, path: [] },
    { name: 'an escaped < that leaves the element open', source: '<a>C:\\</a>', line: 1, column: 1,
      reason: /^unclosed tag <a>/, path: ['a'] },
  ];
  for (const { name, source, line, column, reason, path } of rejected) {
    it(`rejects ${name} at line ${line}`, () => {
      const error = parseError(source);
      expect(error.reason).to.match(reason);
      expect([error.line, error.column]).to.deep.equal([line, column]);
      expect(error.path).to.deep.equal(path);
      expect(error.message).to.equal(`${error.reason} (line ${line}, column ${column})`);
    });
  }

  it('survives mutated input, throwing nothing but XmlSyntaxError', function () {
    this.timeout(20000);
    const seed = '<?xml version="1.0"?>\n<ossec_config>\n  <!-- c -->\n  <client>\n    <server a="1" b=\'2\'>\n'
      + '      <address>10.0.0.1 &amp; &#65;</address>\n    </server>\n    <x><![CDATA[<y>]]></x><z/>\n  </client>\n</ossec_config>\n';
    const alphabet = '<>/!?-="\'&;#[]\\ \nabcx0';
    let state = 42;
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    for (let i = 0; i < 3000; i++) {
      let text = seed;
      for (let m = 1 + random(4); m > 0; m--) {
        const at = random(text.length + 1);
        const op = random(3);
        const piece = alphabet[random(alphabet.length)]!;
        text = op === 0 ? text.slice(0, at) + piece + text.slice(at)
          : op === 1 ? text.slice(0, at) + text.slice(at + 1 + random(8))
            : text.slice(0, at) + piece + text.slice(at + 1);
      }
      try {
        parseXml(text);
      } catch (e) {
        if (!(e instanceof XmlSyntaxError)) throw new Error(`${String(e)} for input ${JSON.stringify(text)}`);
        expect(e.line).to.be.within(1, text.split('\n').length);
        expect(e.message).to.not.include('\n');
      }
    }
  });

  it('parses a large, deeply nested document quickly', () => {
    const depth = 20000;
    const source = '<a>'.repeat(depth) + 'x'.repeat(100000) + '</a>'.repeat(depth);
    const started = Date.now();
    const [root] = parseXml(source);
    expect(Date.now() - started).to.be.below(2000);
    expect(root!.name).to.equal('a');
  });
});
