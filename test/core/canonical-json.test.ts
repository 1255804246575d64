import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CanonicalJsonError, canonicalJson, canonicalJsonBytes, compareCodePoints } from '../../src/core/canonical-json.js';

// Every example from the spec appendix "Canonical JSON", inputs kept as JSON text so they go through
// JSON.parse exactly as network input would.
//
// The npm `canonical-json` package (0.4.0) was checked against these ten vectors: it reproduces all of
// them, but it is not usable for Matrix: it emits floats, NaN→null and out-of-range integers instead of
// rejecting them, drops undefined members silently, and sorts keys by UTF-16 code unit, so an astral key
// sorts before a U+E000–U+FFFF key (the 'code-point order' test below fails with it). Hence our own encoder.
const APPENDIX_VECTORS: Array<[input: string, expected: string]> = [
  ['{}', '{}'],
  ['{\n    "one": 1,\n    "two": "Two"\n}', '{"one":1,"two":"Two"}'],
  ['{\n    "b": "2",\n    "a": "1"\n}', '{"a":"1","b":"2"}'],
  ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
  [
    `{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {
                    "medium": "email",
                    "address": "john.doe@example.org"
                },
                {
                    "medium": "msisdn",
                    "address": "123456789"
                }
            ]
        }
    }
}`,
    '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
  ],
  ['{\n    "a": "日本語"\n}', '{"a":"日本語"}'],
  ['{\n    "本": 2,\n    "日": 1\n}', '{"日":1,"本":2}'],
  ['{\n    "a": "\\u65E5"\n}', '{"a":"日"}'],
  ['{\n    "a": null\n}', '{"a":null}'],
  ['{\n    "a": -0,\n    "b": 1e10\n}', '{"a":0,"b":10000000000}'],
];

test('reproduces every canonical JSON example of the spec appendix byte for byte', () => {
  for (const [input, expected] of APPENDIX_VECTORS) {
    assert.equal(canonicalJson(JSON.parse(input)), expected, input);
    assert.deepEqual(canonicalJsonBytes(JSON.parse(input)), Buffer.from(expected, 'utf8'));
  }
});

test('output is UTF-8 without escaping non-ASCII', () => {
  const bytes = canonicalJsonBytes({ a: 'é😀' });
  assert.deepEqual([...bytes], [...Buffer.from('{"a":"é😀"}', 'utf8')]);
  assert.equal(bytes.length, 8 + 2 + 4);
});

test('escapes exactly what the grammar says', () => {
  // The grammar's short escapes.
  assert.equal(canonicalJson('"\\\b\t\n\f\r'), '"\\"\\\\\\b\\t\\n\\f\\r"');
  // Every other ASCII control character is \u00XX with lowercase hex.
  for (let c = 0; c < 0x20; c++) {
    if ([8, 9, 10, 12, 13].includes(c)) continue;
    const expected = '"\\u00' + c.toString(16).padStart(2, '0') + '"';
    assert.equal(canonicalJson(String.fromCharCode(c)), expected);
  }
  assert.equal(canonicalJson('\u001f\u000b'), '"\\u001f\\u000b"');
  // Nothing else is escaped: '/', DEL, U+2028/2029, non-ASCII, astral.
  const plain = '/\u007f\u2028\u2029\u00e9\uffff😀 !#[]~';
  assert.equal(canonicalJson(plain), '"' + plain + '"');
  // Every output string matches the grammar's `string` production.
  const charRule = /^"(?:[\u0020-\u0021\u0023-\u005b\u005d-\u{10ffff}]|\\[btnfr"\\]|\\u000[0-7bef]|\\u001[0-9a-f])*"$/u;
  let all = '';
  for (let c = 0; c < 0x80; c++) all += String.fromCharCode(c);
  assert.match(canonicalJson(all), charRule);
});

test('keys sort by Unicode code point, not UTF-16 code unit', () => {
  // U+1F600 (astral, UTF-16 D83D DE00) must come after U+FB01 (BMP, above the surrogate block).
  const obj = { '\u{1F600}': 1, '\uFB01': 2, a: 3, '\uE000': 4, '\uD7FF': 5 };
  assert.equal(canonicalJson(obj), '{"a":3,"\uD7FF":5,"\uE000":4,"\uFB01":2,"\u{1F600}":1}');
  assert.equal(canonicalJson({ '\u{10000}b': 1, '\u{10000}a': 2, '\u{1F600}': 3 }), '{"\u{10000}a":2,"\u{10000}b":1,"\u{1F600}":3}');
  // Integer-like keys: V8 enumerates them numerically; canonical order is textual.
  assert.equal(canonicalJson({ b: 0, 10: 1, 9: 2, 1: 3, '': 4 }), '{"":4,"1":3,"10":1,"9":2,"b":0}');
  assert.ok(compareCodePoints('\u{1F600}', '\uFFFF') > 0);
  assert.ok(compareCodePoints('\uFFFF', '\u{1F600}') < 0);
  assert.ok(compareCodePoints('ab', 'a') > 0);
  assert.equal(compareCodePoints('x', 'x'), 0);
});

test('many distinct keys (beyond the quoted-key memo size) still encode correctly', () => {
  const o: Record<string, number> = {};
  const names: string[] = [];
  for (let i = 0; i < 6000; i++) {
    const k = `@user${i}:example.org${i % 3 === 0 ? '\u{1F600}' : i % 3 === 1 ? '\uFB01' : '"\n'}`;
    o[k] = i;
    names.push(k);
  }
  names.sort(compareCodePoints);
  assert.equal(canonicalJson(o), '{' + names.map((k) => `${JSON.stringify(k)}:${o[k]}`).join(',') + '}');
  const plain = Object.fromEntries(names.slice(0, 5000).map((k, i) => [k.replace(/[^\x20-\x7e]/g, ''), i]));
  const keys = Object.keys(plain).sort();
  assert.equal(canonicalJson(plain), '{' + keys.map((k) => `${JSON.stringify(k)}:${plain[k]}`).join(',') + '}');
});

test('code-point comparator agrees with sorting by code point arrays', () => {
  const samples = ['', 'a', 'ab', '\uE000', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}', 'a\u{1F600}', 'a\uFFFF', '\uD7FF', 'Z'];
  const byCodePoints = [...samples].sort((x, y) => {
    const a = [...x].map((c) => c.codePointAt(0)!);
    const b = [...y].map((c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
  assert.deepEqual([...samples].sort(compareCodePoints), byCodePoints);
});

test('integers at the range limits are accepted, beyond them rejected', () => {
  const max = 2 ** 53 - 1;
  assert.equal(canonicalJson([max, -max, 0, -1]), '[9007199254740991,-9007199254740991,0,-1]');
  for (const bad of [2 ** 53, -(2 ** 53), 1e300]) {
    assert.throws(() => canonicalJson({ n: bad }), CanonicalJsonError);
  }
});

test('floats, NaN and infinities are rejected; -0 becomes 0', () => {
  for (const bad of [1.5, -0.1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.EPSILON]) {
    assert.throws(() => canonicalJson([bad]), CanonicalJsonError, String(bad));
  }
  assert.equal(canonicalJson(-0), '0');
  assert.equal(canonicalJson(JSON.parse('1.0')), '1'); // JSON.parse cannot tell 1.0 from 1
});

test('non-JSON values are rejected instead of dropped or converted', () => {
  const bad: unknown[] = [
    undefined,
    { a: undefined },
    [undefined],
    () => 1,
    Symbol('s'),
    10n,
    new Date(0),
    new Map(),
    Buffer.from('x'),
    new Uint8Array(2),
    new (class Foo {})(),
    { toJSON: () => 'x', nested: new Set() },
  ];
  for (const v of bad) assert.throws(() => canonicalJson(v), CanonicalJsonError);
  // Null-prototype objects are plain JSON objects.
  const o = Object.create(null) as Record<string, number>;
  o.b = 1;
  o.a = 2;
  assert.equal(canonicalJson(o), '{"a":2,"b":1}');
});

test('lone surrogates are rejected (no UTF-8 encoding exists), escaped backslashes are not confused', () => {
  for (const bad of ['\uD800', 'x\uDFFFy', '\uDE00\uD83D']) {
    assert.throws(() => canonicalJson({ s: bad }), CanonicalJsonError);
    assert.throws(() => canonicalJson({ [bad]: 1 }), CanonicalJsonError);
  }
  // A literal backslash followed by "ud800" is ordinary text.
  assert.equal(canonicalJson('\\ud800'), '"\\\\ud800"');
  assert.throws(() => canonicalJson('\\\uD800'), CanonicalJsonError);
  assert.equal(canonicalJson('😀'), '"😀"');
});

test('deep nesting and cycles give CanonicalJsonError, not a stack overflow', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => canonicalJson(cyclic), CanonicalJsonError);
  assert.throws(() => canonicalJson(JSON.parse('['.repeat(10000) + ']'.repeat(10000))), CanonicalJsonError);
  assert.equal(canonicalJson(JSON.parse('['.repeat(100) + ']'.repeat(100))), '['.repeat(100) + ']'.repeat(100));
});

test('round-trips realistic nested content unchanged in meaning', () => {
  const ev = {
    type: 'm.room.message',
    content: { body: 'hi "there"\n', msgtype: 'm.text', 'm.relates_to': { rel_type: 'm.thread', event_id: '$x' } },
    prev_events: ['$a', '$b'],
    depth: 12,
    unsigned: { age: 0, flag: false, none: null },
  };
  const s = canonicalJson(ev);
  assert.deepEqual(JSON.parse(s), ev);
  assert.equal(canonicalJson(JSON.parse(s)), s);
  assert.ok(!/\s/.test(s.replace(/"(?:[^"\\]|\\.)*"/g, '""')), 'no insignificant whitespace');
});
