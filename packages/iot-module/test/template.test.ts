import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  renderTemplate,
  TemplateError,
  type RenderOptions,
  type TemplateErrorCode,
} from '../src/template/index.js';

const render = (
  text: string,
  env: Record<string, string | undefined> = {},
  extra: Partial<RenderOptions> = {},
) => renderTemplate(text, { env, ...extra });

test('substitution: reserved > env (empty stays empty) > default > 0', () => {
  const table: Array<[template: string, env: Record<string, string>, expected: string]> = [
    ['listen ${NGINX_DEFAULT_PORT};', {}, 'listen 443;'],
    ['listen ${NGINX_DEFAULT_PORT};', { NGINX_DEFAULT_PORT: '8000' }, 'listen 8000;'],
    ['x=${EMPTY};', { EMPTY: '' }, 'x=;'],
    ['x=${UNSET};', {}, 'x=0;'],
    ['${TOKEN_VALIDITY_MINUTES}m ${TOKEN_SERVER_PORT}', { TOKEN_VALIDITY_MINUTES: '1' }, '30m 6001'],
    ['${A}${A}-${B}', { A: 'a', B: 'b' }, 'aa-b'],
    ['$A ${ no close', { A: 'a' }, '$A ${ no close'],
    ['nginx $host and ${', {}, 'nginx $host and ${'],
  ];
  for (const [template, env, expected] of table) assert.equal(render(template, env).text, expected, template);
});

test('caller can override reserved values and defaults, or remove a default', () => {
  const out = render(
    '${TOKEN_SERVER_PORT} ${NGINX_DEFAULT_PORT} ${NGINX_DEFAULT_TLS}',
    {},
    {
      reserved: { TOKEN_SERVER_PORT: '41234' },
      defaults: { NGINX_DEFAULT_PORT: '8000', NGINX_DEFAULT_TLS: undefined },
    },
  );
  assert.equal(out.text, '41234 8000 0');
});

test('variables map lists every reference and its value', () => {
  const out = render('${A}\n#if_tag ${B}\n${C}\n#endif_tag ${B}', { A: 'a' });
  assert.deepEqual(
    [...out.variables],
    [
      ['A', 'a'],
      ['B', '0'],
      ['C', '0'],
    ],
  );
});

test('values are inserted verbatim and never re-scanned', () => {
  const env = { V: '${OTHER} #if_tag 0 boolean_expression[&(0)] $x {y}', OTHER: 'nope' };
  assert.equal(render('v=${V}', env).text, 'v=${OTHER} #if_tag 0 boolean_expression[&(0)] $x {y}');
});

test('indirection: ${OTHER} as a whole value, one level only', () => {
  const env = { DOCKER_REQUEST_ROUTE_ADDRESS: '${PARENT_HOSTNAME}', PARENT_HOSTNAME: '127.0.01' };
  assert.equal(render('${DOCKER_REQUEST_ROUTE_ADDRESS}', env).text, '127.0.01', 'the README example');
  assert.equal(render('${A}', { A: '${B}' }).text, '0', 'target unset → 0');
  assert.equal(render('${A}', { A: '${NGINX_DEFAULT_PORT}' }).text, '443', 'target default');
  assert.equal(render('${A}', { A: '${TOKEN_SERVER_PORT}' }).text, '6001', 'target reserved');
  assert.equal(render('${A}', { A: '${A}' }).text, '0', 'self reference');
  assert.equal(render('${A}', { A: 'x${B}', B: 'b' }).text, 'x${B}', 'only a whole-value reference');
  const chain = render('${A}', { A: '${B}', B: '${C}', C: 'c' });
  assert.equal(chain.text, '${C}', 'a chain stops after one level');
  assert.ok(chain.notices.some((n) => n.message.includes('only one level')));
  const loop = render('${A} ${B}', { A: '${B}', B: '${A}' });
  assert.equal(loop.text, '${A} ${B}');
  // Without the legacy list a bare name is just a value (current Rust behaviour).
  assert.equal(render('${A}', { A: 'B', B: 'b' }).text, 'B');
});

test('legacy NGINX_CONFIG_ENV_VAR_LIST: only listed names substituted, unlisted stay literal', () => {
  const env = {
    NGINX_CONFIG_ENV_VAR_LIST: ' DOCKER_REQUEST_ROUTE_ADDRESS , LISTED_UNSET,,',
    DOCKER_REQUEST_ROUTE_ADDRESS: 'IOTEDGE_PARENTHOSTNAME',
    IOTEDGE_PARENTHOSTNAME: 'parent',
    UNLISTED: 'u',
  };
  const out = render(
    '${DOCKER_REQUEST_ROUTE_ADDRESS} ${UNLISTED} ${LISTED_UNSET} ${NGINX_DEFAULT_PORT} ${TOKEN_SERVER_PORT} ${host}',
    env,
  );
  assert.equal(out.text, 'parent ${UNLISTED} 0 443 6001 ${host}');
  assert.ok(out.notices.some((n) => n.line === undefined && n.message.includes('NGINX_CONFIG_ENV_VAR_LIST')));
  assert.ok(out.notices.some((n) => n.line === 1 && n.message.includes('${UNLISTED} left as written')));
  // A bare name that is not a set variable stays the value itself.
  assert.equal(render('${A}', { NGINX_CONFIG_ENV_VAR_LIST: 'A', A: 'NOT_SET' }).text, 'NOT_SET');
  // The documented (Microsoft Learn) spelling works too; the option overrides the environment.
  assert.equal(render('${X}', { PROXY_CONFIG_ENV_VAR_LIST: 'Y', X: 'x' }).text, '${X}');
  assert.equal(render('${X}', { NGINX_CONFIG_ENV_VAR_LIST: 'Y', X: 'x' }, { variableList: null }).text, 'x');
  assert.equal(render('${X}', { X: 'x' }, { variableList: ['Y'] }).text, '${X}');
  // Blank list = not set.
  assert.equal(render('${X}', { NGINX_CONFIG_ENV_VAR_LIST: ' ', X: 'x' }).text, 'x');
});

test('an unlisted literal reference in a tag is a true value (historical behaviour)', () => {
  const out = render('#if_tag ${X}\nkept\n#endif_tag ${X}', { NGINX_CONFIG_ENV_VAR_LIST: 'Y' });
  assert.equal(out.text, '#if_tag ${X}\nkept\n#endif_tag ${X}');
});

test('#if_tag: truth table, negation, kept tag lines', () => {
  const block = (cond: string) => `a\n#if_tag ${cond}\nin\n#endif_tag ${cond.replace('!', '')}\nb`;
  const table: Array<[cond: string, env: Record<string, string>, kept: boolean]> = [
    ['${X}', {}, false],
    ['${X}', { X: '0' }, false],
    ['${X}', { X: '' }, false],
    ['${X}', { X: ' 0 ' }, false],
    ['${X}', { X: '1' }, true],
    ['${X}', { X: 'registry:5000' }, true],
    ['${X}', { X: '00' }, true], // DIFFERENCE: Rust prefix-matches "0"
    ['${X}', { X: '0.0.0.0:5000' }, true], // DIFFERENCE: same
    ['!${X}', {}, true],
    ['!${X}', { X: 'v' }, false], // DIFFERENCE: current Rust ignores "!" and keeps both branches
    ['! ${X}', { X: 'v' }, false],
    ['!boolean_expression[&(${X},1)]', { X: 'v' }, false],
    ['boolean_expression[&(${X},1)]', { X: 'v' }, true],
    ['0', {}, false],
    ['literal', {}, true],
  ];
  for (const [cond, env, kept] of table) {
    const text = render(block(cond), env).text;
    assert.equal(text.includes('in'), kept, `${cond} ${JSON.stringify(env)} → ${JSON.stringify(text)}`);
    if (kept) assert.match(text, /#if_tag .*\nin\n#endif_tag /);
    else assert.equal(text, 'a\n\nb');
  }
});

test('a true value starting with 0 gets a notice about the Rust difference', () => {
  const out = render('#if_tag ${X}\n#endif_tag ${X}', { X: '0.0.0.0:5000' });
  assert.equal(out.notices.length, 1);
  assert.equal(out.notices[0]!.line, 1);
  assert.match(out.notices[0]!.message, /starts with 0/);
});

test('removed blocks leave indentation and the #endif_tag line end; CRLF and LF preserved', () => {
  assert.equal(render('x\r\n    #if_tag 0\r\n  y\r\n  #endif_tag 0  \r\nz').text, 'x\r\n      \r\nz');
  assert.equal(render('x\n\t#if_tag 0\ny\n#endif_tag 0\nz\n').text, 'x\n\t\nz\n');
  assert.equal(render('mixed\r\nlf\nend').text, 'mixed\r\nlf\nend');
  assert.equal(render('lone\rcr\n').text, 'lone\rcr\n');
});

test('nesting: inner blocks pair with the nearest #if_tag (Rust did not nest)', () => {
  const template = [
    '#if_tag ${OUTER}',
    'o1',
    '#if_tag ${INNER}',
    'i',
    '#endif_tag ${INNER}',
    'o2',
    '#endif_tag ${OUTER}',
    'after',
  ].join('\n');
  const table: Array<[env: Record<string, string>, expected: string]> = [
    [{ OUTER: '1', INNER: '1' }, '#if_tag 1\no1\n#if_tag 1\ni\n#endif_tag 1\no2\n#endif_tag 1\nafter'],
    [{ OUTER: '1' }, '#if_tag 1\no1\n\no2\n#endif_tag 1\nafter'],
    // Rust removed from the outer #if_tag 0 to the INNER #endif_tag 0 and left "o2" behind.
    [{}, '\nafter'],
    [{ INNER: '1' }, '\nafter'],
  ];
  for (const [env, expected] of table)
    assert.equal(render(template, env).text, expected, JSON.stringify(env));
});

test('#if_tag / #endif_tag only count at the start of a line (after blanks) and followed by a blank', () => {
  const out = render('a #if_tag 0\n##if_tag 0\n#if_tag0\n  \t#if_tag\t0\nx\n#endif_tag').text;
  assert.equal(out, 'a #if_tag 0\n##if_tag 0\n#if_tag0\n  \t');
});

test('#endif_tag argument: decides nothing, a broken boolean there is text plus a notice', () => {
  const out = render('#if_tag ${A}\nx\n#endif_tag boolean_expression[&(${A}', { A: 'a' });
  assert.equal(out.text, '#if_tag a\nx\n#endif_tag boolean_expression[&(a');
  assert.ok(out.notices.some((n) => n.line === 3 && n.message.includes('kept as text')));
  const mismatch = render('#if_tag ${A}\n#endif_tag ${B}', { A: 'a' });
  assert.ok(mismatch.notices.some((n) => n.line === 2 && n.message.includes('pair by nesting')));
  const negated = render('#if_tag !${A}\n#endif_tag ${A}', { A: 'a' });
  assert.equal(negated.notices.length, 0, 'README style "!X … X" is a match');
});

test('boolean_expression anywhere on a line becomes 1 or 0', () => {
  const table: Array<[template: string, env: Record<string, string>, expected: string]> = [
    ['v=boolean_expression[&(${A},${B})];', { A: 'a', B: 'b' }, 'v=1;'],
    ['boolean_expression[!(${A})] boolean_expression[|(0,${A})]', {}, '1 0'],
    ['boolean_expression[ & ( 1 , 1 ) ]x]', {}, '1x]'],
    ['boolean_expression[${CIPHERS}]', { CIPHERS: 'HIGH:!aNULL' }, '1'],
    ['boolean_expression', {}, 'boolean_expression'],
  ];
  for (const [template, env, expected] of table) assert.equal(render(template, env).text, expected, template);
});

test('tag lines: a line break inside a value cannot end the comment', () => {
  const out = render('#if_tag ${X}\nin\n#endif_tag ${X}', { X: 'a\nlisten 80;' });
  assert.equal(out.text, '#if_tag a listen 80;\nin\n#endif_tag a listen 80;');
  assert.ok(out.notices.some((n) => n.message.includes('line breaks')));
});

test('errors carry a code, the 1-based line and say what is wrong', () => {
  const table: Array<[template: string, code: TemplateErrorCode, line: number, fragment: string]> = [
    ['a\nb\n#if_tag ${X}\nc', 'UNCLOSED_IF_TAG', 3, 'never closed'],
    ['#if_tag 1\n#if_tag 1\n#endif_tag 1', 'UNCLOSED_IF_TAG', 1, 'never closed'],
    ['a\n#endif_tag ${X}', 'UNEXPECTED_ENDIF_TAG', 2, 'without a matching #if_tag'],
    ['#if_tag 1\n#endif_tag\n#endif_tag', 'UNEXPECTED_ENDIF_TAG', 3, 'without a matching'],
    ['x\n#if_tag   \n#endif_tag', 'MISSING_CONDITION', 2, 'needs a condition'],
    ['#if_tag !\n#endif_tag', 'MISSING_CONDITION', 1, "after '!'"],
    ['ok\r\nlisten ${};', 'INVALID_VARIABLE', 2, 'empty variable name'],
    ['${A B}', 'INVALID_VARIABLE', 1, 'invalid variable name'],
    ['${a${b}', 'INVALID_VARIABLE', 1, 'invalid variable name'],
    ['\n\n#if_tag boolean_expression[&(1,]\n#endif_tag', 'INVALID_BOOLEAN_EXPRESSION', 3, 'missing operand'],
    ['v=boolean_expression[!()]', 'INVALID_BOOLEAN_EXPRESSION', 1, 'needs at least one operand'],
    ['v=boolean_expression[!(0,0)]', 'INVALID_BOOLEAN_EXPRESSION', 1, 'exactly one operand'],
    ['v=boolean_expression[&(1)', 'INVALID_BOOLEAN_EXPRESSION', 1, "expected ']'"],
    // Errors inside removed blocks are still errors: validity does not depend on the environment.
    [
      '#if_tag 0\nboolean_expression[(0)]\n#endif_tag 0',
      'INVALID_BOOLEAN_EXPRESSION',
      2,
      'must follow an operator',
    ],
  ];
  for (const [template, code, line, fragment] of table) {
    assert.throws(
      () => render(template),
      (e: unknown) => {
        assert.ok(e instanceof TemplateError, template);
        assert.equal(e.code, code, `${template}: ${e.message}`);
        assert.equal(e.line, line, `${template}: ${e.message}`);
        assert.ok(e.message.includes(fragment), `${template}: ${e.message}`);
        assert.ok(e.message.startsWith(`line ${line}`), e.message);
        return true;
      },
    );
  }
});

test('env is read as own string properties only', () => {
  assert.equal(render('${constructor} ${__proto__} ${toString}').text, '0 0 0');
  assert.equal(renderTemplate('${X}', { env: { X: undefined } }).text, '0');
});

test('the current default template renders for a top layer and a lower layer', () => {
  const template = [
    '        listen ${NGINX_DEFAULT_PORT} ssl default_server;',
    '        ssl_protocols ${NGINX_DEFAULT_TLS};',
    '        #if_tag ${BLOB_UPLOAD_ROUTE_ADDRESS}',
    '        rewrite ^(.*)$ /storage$1 last;',
    '        #endif_tag ${BLOB_UPLOAD_ROUTE_ADDRESS} ',
    '        #if_tag boolean_expression[!(${BLOB_UPLOAD_ROUTE_ADDRESS})]',
    '        rewrite ^(.*)$ /parent$1 last;',
    '        #endif_tag boolean_expression[!(${BLOB_UPLOAD_ROUTE_ADDRESS})]          ',
    '        #if_tag boolean_expression[&(!(${DOCKER_REQUEST_ROUTE_ADDRESS}),!(${CONNECTED_ACR_ROUTE_ADDRESS}))]',
    '        rewrite ^(.*)$ /parent$1 last; # registry',
    '        #endif_tag boolean_expression[&(!(${DOCKER_REQUEST_ROUTE_ADDRESS}),!(${CONNECTED_ACR_ROUTE_ADDRESS}))]      ',
    '        #if_tag ${IOTEDGE_PARENTHOSTNAME}      ',
    '        proxy_ssl_name  ${IOTEDGE_MODULEID};',
    '        proxy_pass          https://${IOTEDGE_PARENTHOSTNAME}:${NGINX_DEFAULT_PORT}/$1$is_args$args;',
    '        #endif_tag ${IOTEDGE_PARENTHOSTNAME}',
    '        proxy_cache_valid any ${TOKEN_VALIDITY_MINUTES}m;',
    '        set $endpoint http://127.0.0.1:${TOKEN_SERVER_PORT};',
  ].join('\n');
  const top = render(template, {
    NGINX_DEFAULT_PORT: '8000',
    DOCKER_REQUEST_ROUTE_ADDRESS: 'registry:5000',
    BLOB_UPLOAD_ROUTE_ADDRESS: 'AzureBlobStorageonIoTEdge:11002',
    IOTEDGE_MODULEID: 'apiproxy',
  });
  assert.ok(top.text.includes('/storage$1'));
  assert.ok(!top.text.includes('/parent$1'));
  assert.ok(!top.text.includes('proxy_pass'));
  assert.ok(top.text.includes('ssl_protocols TLSv1.2;'));
  assert.ok(top.text.includes('any 30m;') && top.text.includes(':6001;'));
  assert.deepEqual(top.notices, []);

  const lower = render(template, { IOTEDGE_PARENTHOSTNAME: 'parent.local', IOTEDGE_MODULEID: 'apiproxy' });
  assert.ok(lower.text.includes('listen 443 ssl'));
  assert.ok(!lower.text.includes('/storage$1'));
  assert.ok(lower.text.includes('/parent$1 last;\n') && lower.text.includes('/parent$1 last; # registry'));
  assert.ok(lower.text.includes('proxy_pass          https://parent.local:443/$1$is_args$args;'));
  assert.ok(lower.text.includes('proxy_ssl_name  apiproxy;'));
});
