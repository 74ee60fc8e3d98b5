import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { NginxConfigError, parse, type NginxDirective } from '../src/nginx/index.js';
import { fixturePath, TEMPLATE_PATH } from './fixtures/nginx/render-template.js';

function find(list: NginxDirective[], name: string): NginxDirective {
  const d = list.find((x) => x.name === name);
  assert.ok(d, `directive ${name}`);
  return d;
}

test('parse: directives, blocks, positions', () => {
  const ast = parse('events { }\nhttp {\n  server {\n    listen 8000 ssl default_server;\n  }\n}\n', {
    file: 'x.conf',
  });
  assert.equal(ast.file, 'x.conf');
  assert.deepEqual(
    ast.directives.map((d) => [d.name, d.line, d.column]),
    [
      ['events', 1, 1],
      ['http', 2, 1],
    ],
  );
  assert.deepEqual(ast.directives[0]!.block, []);
  const listen = find(find(ast.directives[1]!.block!, 'server').block!, 'listen');
  assert.equal(listen.file, 'x.conf');
  assert.deepEqual(
    listen.args.map((a) => [a.value, a.line, a.column]),
    [
      ['8000', 4, 12],
      ['ssl', 4, 17],
      ['default_server', 4, 21],
    ],
  );
  assert.equal(listen.block, undefined);
});

test('parse: quotes, escapes, comments and variables', () => {
  const text = [
    'set $a "x y\\"z";', // double quotes with an escaped quote
    "set $b 'it\\'s';", // single quotes
    'set $c a\\ b;', // an escaped space does not end the word (nginx keeps the backslash)
    'set $d "\\t\\n\\\\";', // decoded escapes
    'set $e \\d+;', // other backslashes stay
    'set $f "{ } ;";', // braces and semicolon inside quotes
    'set $g http://${X}:$port/$1; # trailing comment { ; }',
    'set $h a#b;', // `#` inside a word is not a comment
    'set $i a}b;', // `}` inside a word is part of it
    'set $j "";',
  ].join('\n');
  const ds = find(parse(`events {}\nhttp { server {\n${text}\n} }`).directives[1]!.block!, 'server').block!;
  const values = ds.map((d) => d.args[1]!.value);
  assert.deepEqual(values, [
    'x y"z',
    "it's",
    'a\\ b',
    '\t\n\\',
    '\\d+',
    '{ } ;',
    'http://${X}:$port/$1',
    'a#b',
    'a}b',
    '',
  ]);
  assert.equal(ds[0]!.args[1]!.quote, '"');
  assert.equal(ds[1]!.args[1]!.quote, "'");
  assert.equal(ds[2]!.args[1]!.quote, undefined);
  assert.equal(ds[9]!.args[1]!.quote, '"');
  assert.equal(ds.length, 10);
});

test('parse: location modifiers glued to patterns and regex arguments', () => {
  const ast = parse(
    'events {}\nhttp { server {\n' +
      'location ~^/devices|twins/ { }\n' +
      'location ~*\\.PNG$ { }\n' +
      'location ~^/storage/(.*){ }\n' +
      'location = /auth { }\n' +
      'location =/exact { }\n' +
      'location ^~ /images/ { }\n' +
      'location /v2 { }\n' +
      '} }',
  );
  const server = find(ast.directives[1]!.block!, 'server');
  assert.deepEqual(
    server.block!.map((d) => d.args.map((a) => a.value)),
    [
      ['~^/devices|twins/'],
      ['~*\\.PNG$'],
      ['~^/storage/(.*)'],
      ['=', '/auth'],
      ['=/exact'],
      ['^~', '/images/'],
      ['/v2'],
    ],
  );
});

test('parse: if conditions keep nginx tokenisation (quoted word followed by ")")', () => {
  const ast = parse(
    'events {}\nhttp { server {\nif ($a = "b c") { return 403; }\nif ($uri ~ ^/v2*.) { rewrite ^(.*)$ /registry$1 last; }\n} }',
  );
  const server = find(ast.directives[1]!.block!, 'server');
  assert.deepEqual(
    server.block!.map((d) => d.args.map((a) => a.value)),
    [
      ['($a', '=', 'b c', ')'],
      ['($uri', '~', '^/v2*.)'],
    ],
  );
  assert.deepEqual(
    server.block![1]!.block![0]!.args.map((a) => a.value),
    ['^(.*)$', '/registry$1', 'last'],
  );
});

test('parse: map entries keep their keys, including "" and regex keys', () => {
  const ast = parse(
    'events {}\nhttp {\nmap $http_x $y {\n  hostnames;\n  volatile;\n  default 1;\n  "" 2;\n  ~^a 3;\n  \\~b 4;\n}\n}',
  );
  const map = find(ast.directives[1]!.block!, 'map');
  assert.deepEqual(
    map.block!.map((d) => [d.name, d.nameQuote ?? null, d.args.map((a) => a.value)]),
    [
      ['hostnames', null, []],
      ['volatile', null, []],
      ['default', null, ['1']],
      ['', '"', ['2']],
      ['~^a', null, ['3']],
      ['\\~b', null, ['4']], // the map compiler strips the escaping backslash
    ],
  );
});

test('parse: the default template and its rendered variants parse', () => {
  // `#if_tag` lines are nginx comments, so even the unrendered template is well-formed nginx text.
  parse(readFileSync(TEMPLATE_PATH, 'utf8'));
  for (const layer of ['top', 'lower', 'acr'] as const) parse(readFileSync(fixturePath(layer), 'utf8'));
});

const MALFORMED: Array<[string, string, RegExp, number]> = [
  [
    'missing closing brace',
    'events {}\nhttp {\n  server {\n    listen 80;\n  }',
    /^unexpected end of file, expecting "}"$/,
    5,
  ],
  ['stray closing brace', 'events {}\n}\n', /^unexpected "}"$/, 2],
  ['unknown directive', 'events {}\nfoo bar;\n', /^unknown directive "foo"$/, 2],
  [
    'missing semicolon before }',
    'events {}\nhttp {\n  server {\n    listen 80\n  }\n}',
    /^unexpected "}"$/,
    5,
  ],
  ['wrong context', 'events {}\nhttp {\n  listen 80;\n}', /^"listen" directive is not allowed here$/, 3],
  [
    'block on a simple directive',
    'events {}\nhttp {\n  server {\n    listen 80 {\n    }\n  }\n}',
    /^directive "listen" is not terminated by ";"$/,
    4,
  ],
  [
    'block directive without block',
    'events {}\nhttp {\n  server;\n}',
    /^directive "server" has no opening "{"$/,
    3,
  ],
  [
    'location without pattern',
    'events {}\nhttp {\n  server {\n    location {\n    }\n  }\n}',
    /^invalid number of arguments in "location" directive$/,
    4,
  ],
  [
    'unterminated string',
    'events {}\nhttp {\n  server {\n    return 200 "open;\n  }\n}',
    /^unexpected end of file, expecting ";" or "}"$/,
    6,
  ],
  ['include', 'events {}\ninclude mime.types;', /^"include" is not supported/, 2],
  [
    'nested location',
    'events {}\nhttp {\n  server {\n    location / {\n      location /x { }\n    }\n  }\n}',
    /^nested "location" blocks are not supported$/,
    5,
  ],
  [
    'map entry arity',
    'events {}\nhttp {\n  map $a $b {\n    x;\n  }\n}',
    /^invalid number of the map parameters$/,
    4,
  ],
  ['block inside map', 'events {}\nhttp {\n  map $a $b {\n    x { }\n  }\n}', /^unexpected "{"$/, 4],
  [
    'proxy_pass inside if',
    'events {}\nhttp {\n  server {\n    if ($a) {\n      proxy_pass http://x;\n    }\n  }\n}',
    /inside "if" is not supported/,
    5,
  ],
  ['lone semicolon', 'events {}\n\n;', /^unexpected ";"$/, 3],
  ['lone opening brace', 'events {}\nhttp {\n  {\n}', /^unexpected "{"$/, 3],
  [
    'text glued after a quote',
    'events {}\nhttp {\n  server {\n    set $a "x"y;\n  }\n}',
    /^unexpected "y"$/,
    4,
  ],
  [
    'internal in server',
    'events {}\nhttp {\n  server {\n    internal;\n  }\n}',
    /^"internal" directive is not allowed here$/,
    4,
  ],
  [
    'if inside if',
    'events {}\nhttp {\n  server {\n    if ($a) {\n      if ($b) { }\n    }\n  }\n}',
    /"if"/,
    5,
  ],
  [
    'too many arguments',
    'events { worker_connections 1 2; }',
    /^invalid number of arguments in "worker_connections" directive$/,
    1,
  ],
  [
    'CRLF line endings',
    'events {}\r\nhttp {\r\n  upstream x { }\r\n}',
    /^"upstream" blocks are not supported/,
    3,
  ],
  [
    'braces in a comment do not count',
    'events {}\n# } {\nhttp { server { listen 80; } }\n}',
    /^unexpected "}"$/,
    4,
  ],
  [
    'unterminated directive at end',
    'events {}\nhttp { }\nworker_processes 1',
    /^unexpected end of file, expecting ";" or "}"$/,
    3,
  ],
];

for (const [name, text, reason, line] of MALFORMED) {
  test(`parse error: ${name} (line ${line})`, () => {
    assert.throws(
      () => parse(text, { file: 'bad.conf' }),
      (e: unknown) => {
        assert.ok(e instanceof NginxConfigError, `NginxConfigError, got ${String(e)}`);
        assert.match(e.reason, reason);
        assert.equal(e.line, line);
        assert.equal(e.file, 'bad.conf');
        assert.ok(e.column >= 1);
        assert.equal(e.message, `${e.reason} in bad.conf:${e.line}:${e.column}`);
        return true;
      },
    );
  });
}

/** parse either succeeds or throws an NginxConfigError whose line exists in the text. */
function checkTotal(text: string): void {
  try {
    parse(text);
  } catch (e) {
    if (!(e instanceof NginxConfigError)) throw e;
    const lineCount = text.split('\n').length;
    if (e.line < 1 || e.line > lineCount)
      throw new Error(`line ${e.line} outside 1..${lineCount}: ${e.message}`);
    if (e.column < 1) throw new Error(`column ${e.column}: ${e.message}`);
  }
}

const PIECES = [
  '{',
  '}',
  ';',
  '"',
  "'",
  '\\',
  '#',
  '$',
  '${',
  '(',
  ')',
  '~',
  '~*',
  '=',
  '^~',
  ' ',
  '\n',
  '\r\n',
  '\t',
  'events',
  'http',
  'server',
  'location',
  'if',
  'map',
  'listen',
  'set',
  'rewrite',
  'return',
  'proxy_pass',
  'default',
  'include',
  '80',
  '/x',
  '$uri',
  'é',
];

test(
  'property: parse of arbitrary text throws only NginxConfigError with a valid line',
  { timeout: 60_000 },
  () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), checkTotal), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 80 }), (parts) =>
        checkTotal(parts.join('')),
      ),
      { numRuns: 3000 },
    );
  },
);

test(
  'property: mutations of the default template never break the error contract',
  { timeout: 60_000 },
  () => {
    const sources = [readFileSync(TEMPLATE_PATH, 'utf8'), readFileSync(fixturePath('top'), 'utf8')];
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('delete' as const),
        at: fc.nat(),
        length: fc.integer({ min: 1, max: 40 }),
      }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), piece: fc.constantFrom(...PIECES) }),
      fc.record({
        kind: fc.constant('duplicate' as const),
        at: fc.nat(),
        length: fc.integer({ min: 1, max: 200 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...sources),
        fc.array(mutation, { minLength: 1, maxLength: 5 }),
        (source, ms) => {
          let text = source;
          for (const m of ms) {
            const at = m.at % (text.length + 1);
            if (m.kind === 'delete') text = text.slice(0, at) + text.slice(at + m.length);
            else if (m.kind === 'insert') text = text.slice(0, at) + m.piece + text.slice(at);
            else text = text.slice(0, at) + text.slice(at, at + m.length) + text.slice(at);
          }
          checkTotal(text);
        },
      ),
      { numRuns: 3000 },
    );
  },
);

test('parse is linear on deep and long inputs (no hang)', { timeout: 20_000 }, () => {
  checkTotal('{'.repeat(100_000));
  checkTotal('events {}\nhttp {'.repeat(10_000));
  checkTotal('"'.repeat(100_001));
  checkTotal('#'.repeat(100_000) + '\n'.repeat(100_000));
  checkTotal(`events {}\nhttp { server { ${'set $a b; '.repeat(50_000)} } }`);
});
