// The unit-test vectors of the Rust module (edge-modules/api-proxy-module/src/monitors/config_parser.rs),
// ported as tables. Where a vector encodes a Rust bug, the table holds OUR result and says why;
// every such difference is listed in docs/template.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate, TemplateError } from '../src/template/index.js';

const crlf = (lines: readonly string[]): string => lines.join('\r\n');

/** Rust `RAW_CONFIG_TEXT` (a CRLF template, 2021 default-template era). */
const RAW_CONFIG_TEXT = crlf([
  'events { }',
  '',
  '',
  'http {',
  '    proxy_buffers 32 160k;  ',
  '    proxy_buffer_size 160k;',
  '    proxy_read_timeout 3600;',
  '    error_log /dev/stdout info;',
  '    access_log /dev/stdout;',
  '',
  '    server {',
  '        listen ${NGINX_DEFAULT_PORT} ssl default_server;',
  '',
  '        chunked_transfer_encoding on;',
  '',
  '        ssl_certificate        server.crt;',
  '        ssl_certificate_key    private_key.pem; ',
  '        ssl_client_certificate trustedCA.crt;',
  '        ssl_verify_client on;',
  '',
  '',
  '        #if_tag ${NGINX_HAS_BLOB_MODULE}',
  '        if ($http_x_ms_blob_type = BlockBlob)',
  '        {',
  '            rewrite ^(.*)$ /storage$1 last;',
  '        } ',
  '        #endif_tag ${NGINX_HAS_BLOB_MODULE}',
  '',
  '        #if_tag ${DOCKER_REQUEST_ROUTE_ADDRESS}',
  '        location /v2 {',
  '            proxy_http_version 1.1;',
  '            resolver 127.0.0.11;',
  '            set $backend "http://${DOCKER_REQUEST_ROUTE_ADDRESS}";',
  '            proxy_pass          $backend;',
  '        }',
  '       #endif_tag ${DOCKER_REQUEST_ROUTE_ADDRESS}',
  '',
  '        #if_tag ${NGINX_HAS_BLOB_MODULE}',
  '        location ~^/storage/(.*){',
  '            proxy_http_version 1.1;',
  '            resolver 127.0.0.11;',
  '            set $backend "http://${NGINX_BLOB_MODULE_NAME_ADDRESS}";',
  '            proxy_pass          $backend/$1$is_args$args;',
  '        }',
  '        #endif_tag ${NGINX_HAS_BLOB_MODULE}',
  '',
  '        #if_tag ${NGINX_NOT_ROOT}      ',
  '        location /{',
  '            proxy_http_version 1.1;',
  '            resolver 127.0.0.11;',
  '            set $backend "https://${GATEWAY_HOSTNAME}:443";',
  '            proxy_pass          $backend/$1$is_args$args;',
  '        }',
  '        #endif_tag ${NGINX_NOT_ROOT}',
  '    }',
  '}',
]);

/** Rust `PARSED_CONFIG`: removed blocks leave their indentation and the `#endif_tag` line end. */
const PARSED_CONFIG = crlf([
  'events { }',
  '',
  '',
  'http {',
  '    proxy_buffers 32 160k;  ',
  '    proxy_buffer_size 160k;',
  '    proxy_read_timeout 3600;',
  '    error_log /dev/stdout info;',
  '    access_log /dev/stdout;',
  '',
  '    server {',
  '        listen 443 ssl default_server;',
  '',
  '        chunked_transfer_encoding on;',
  '',
  '        ssl_certificate        server.crt;',
  '        ssl_certificate_key    private_key.pem; ',
  '        ssl_client_certificate trustedCA.crt;',
  '        ssl_verify_client on;',
  '',
  '',
  '        ',
  '',
  '        #if_tag registry:5000',
  '        location /v2 {',
  '            proxy_http_version 1.1;',
  '            resolver 127.0.0.11;',
  '            set $backend "http://registry:5000";',
  '            proxy_pass          $backend;',
  '        }',
  '       #endif_tag registry:5000',
  '',
  '        ',
  '',
  '        ',
  '    }',
  '}',
]);

const ACR_COMMON_HEAD = [
  'events { }',
  '',
  '',
  'http {',
  '    proxy_buffers 32 160k;',
  '    proxy_buffer_size 160k;',
  '    proxy_read_timeout 3600;',
  '    error_log /dev/stdout info;',
  '    access_log /dev/stdout;',
  '',
  '    map $http_authorization $auth {',
  '        default $http_authorization;',
  '        "" $token;',
  '    }',
  '',
  '    map "" $edge_hub_endpoint {',
  '        default https://edgehub;',
  '        "" https://edgehub;',
  '    }',
  '    ',
  '    proxy_cache_path /var/cache/nginx levels=1 keys_zone=token_cache:1m max_size=2m inactive=60m use_temp_path=off;',
  '',
  '    server {',
];

const ACR_COMMON_TAIL = [
  '',
  '        location ~^/devices|twins/ {',
  '            auth_request /auth;',
  '            auth_request_set $token $upstream_http_x_token;',
  '            resolver 127.0.0.11;',
  '            proxy_http_version 1.1;',
  '            proxy_ssl_verify off;',
  '            proxy_set_header x-ms-edge-clientcert $ssl_client_escaped_cert;',
  '            proxy_set_header Authorization $auth;',
  '            proxy_pass $edge_hub_endpoint;',
  '        }',
  '        ',
  '        location ~^/.iothub/websocket {',
  '            auth_request /auth;',
  '            auth_request_set $token $upstream_http_x_token;',
  '            resolver 127.0.0.11;',
  '            proxy_ssl_verify off;',
  '            proxy_set_header x-ms-edge-clientcert $ssl_client_escaped_cert;',
  '            proxy_set_header Authorization $auth;',
  '            proxy_pass $edge_hub_endpoint;',
  '            proxy_http_version 1.1;',
  '            proxy_set_header Upgrade $http_upgrade;',
  '            proxy_set_header Connection "Upgrade";',
  '            proxy_set_header Host $host;',
  '        }',
  '        ',
  '        location = /auth {',
  '            internal;',
  '            proxy_cache token_cache;',
  '            proxy_cache_valid any 30m;',
  '            proxy_cache_key "token";',
  '            proxy_http_version 1.1;',
  '            resolver 127.0.0.11;',
  '            set $endpoint http://127.0.0.1:6001;',
  '            proxy_pass $endpoint;',
  '        }',
  '    }',
  '}',
];

/** Rust `RAW_ACR_CONFIG_TEXT`. */
const RAW_ACR_CONFIG_TEXT = crlf([
  ...ACR_COMMON_HEAD,
  '        listen ${NGINX_DEFAULT_PORT} ssl default_server;',
  '',
  '        chunked_transfer_encoding on;',
  '',
  '        ssl_certificate        server.crt;',
  '        ssl_certificate_key    private_key_server.pem;',
  '        ssl_client_certificate trustedCA.crt;',
  '        #ssl_verify_depth 7;',
  '        ssl_verify_client optional_no_ca;',
  '',
  '        #if_tag ${BLOB_UPLOAD_ROUTE_ADDRESS}',
  '        if ($http_x_ms_version)',
  '        {',
  '            rewrite ^(.*)$ /storage$1 last;',
  '        }',
  '        #endif_tag ${BLOB_UPLOAD_ROUTE_ADDRESS}',
  '        #if_tag boolean_expression[!(${BLOB_UPLOAD_ROUTE_ADDRESS})]',
  '        if ($http_x_ms_version)',
  '        {',
  '            rewrite ^(.*)$ /parent$1 last;',
  '        }',
  '        #endif_tag boolean_expression[!(${BLOB_UPLOAD_ROUTE_ADDRESS})]',
  '',
  '        #if_tag ${BLOB_UPLOAD_ROUTE_ADDRESS}',
  '        location ~^/storage/(.*){',
  '            resolver 127.0.0.11;',
  '            proxy_http_version 1.1;',
  '            proxy_pass          http://${BLOB_UPLOAD_ROUTE_ADDRESS}/$1$is_args$args;',
  '        }',
  '        #endif_tag ${BLOB_UPLOAD_ROUTE_ADDRESS}',
  '',
  '        #if_tag ${CONNECTED_ACR_ROUTE_ADDRESS}',
  '        location /v2 {',
  '            client_max_body_size 1000G;',
  '            resolver 127.0.0.11;',
  '            proxy_http_version 1.1;',
  '            proxy_pass         http://${CONNECTED_ACR_ROUTE_ADDRESS};',
  '            proxy_set_header   X-Forwarded-Host $http_host;',
  '            proxy_set_header   X-Forwarded-Proto $scheme;',
  '        }',
  '',
  '        location /acr {',
  '            client_max_body_size 10M;',
  '            resolver 127.0.0.11;',
  '            proxy_http_version 1.1;',
  '            proxy_pass         http://${CONNECTED_ACR_ROUTE_ADDRESS};',
  '            proxy_set_header   X-Forwarded-Host $http_host;',
  '            proxy_set_header   X-Forwarded-Proto $scheme;',
  '        }',
  '        #endif_tag ${CONNECTED_ACR_ROUTE_ADDRESS}',
  '',
  '        #if_tag ${IOTEDGE_PARENTHOSTNAME}',
  '        location ~^/parent/(.*) {',
  '            proxy_http_version 1.1;',
  '            resolver 127.0.0.11;',
  '            #proxy_ssl_certificate     identity.crt;',
  '            #proxy_ssl_certificate_key private_key_identity.pem;',
  '            proxy_ssl_trusted_certificate trustedCA.crt;',
  '            proxy_ssl_verify_depth 7;',
  '            proxy_ssl_verify       on;',
  '            proxy_pass          https://${IOTEDGE_PARENTHOSTNAME}:${NGINX_DEFAULT_PORT}/$1$is_args$args;',
  '        }',
  '        #endif_tag ${IOTEDGE_PARENTHOSTNAME}',
  ...ACR_COMMON_TAIL,
]);

/** Rust `PARSED_ACR_CONFIG`. */
const PARSED_ACR_CONFIG = crlf([
  ...ACR_COMMON_HEAD,
  '        listen 8000 ssl default_server;',
  '',
  '        chunked_transfer_encoding on;',
  '',
  '        ssl_certificate        server.crt;',
  '        ssl_certificate_key    private_key_server.pem;',
  '        ssl_client_certificate trustedCA.crt;',
  '        #ssl_verify_depth 7;',
  '        ssl_verify_client optional_no_ca;',
  '',
  '        #if_tag AzureBlobStorageonIoTEdge:11002',
  '        if ($http_x_ms_version)',
  '        {',
  '            rewrite ^(.*)$ /storage$1 last;',
  '        }',
  '        #endif_tag AzureBlobStorageonIoTEdge:11002',
  '        ',
  '',
  '        #if_tag AzureBlobStorageonIoTEdge:11002',
  '        location ~^/storage/(.*){',
  '            resolver 127.0.0.11;',
  '            proxy_http_version 1.1;',
  '            proxy_pass          http://AzureBlobStorageonIoTEdge:11002/$1$is_args$args;',
  '        }',
  '        #endif_tag AzureBlobStorageonIoTEdge:11002',
  '',
  '        #if_tag connected-registry:8080',
  '        location /v2 {',
  '            client_max_body_size 1000G;',
  '            resolver 127.0.0.11;',
  '            proxy_http_version 1.1;',
  '            proxy_pass         http://connected-registry:8080;',
  '            proxy_set_header   X-Forwarded-Host $http_host;',
  '            proxy_set_header   X-Forwarded-Proto $scheme;',
  '        }',
  '',
  '        location /acr {',
  '            client_max_body_size 10M;',
  '            resolver 127.0.0.11;',
  '            proxy_http_version 1.1;',
  '            proxy_pass         http://connected-registry:8080;',
  '            proxy_set_header   X-Forwarded-Host $http_host;',
  '            proxy_set_header   X-Forwarded-Proto $scheme;',
  '        }',
  '        #endif_tag connected-registry:8080',
  '',
  '        #if_tag 10.0.0.1',
  '        location ~^/parent/(.*) {',
  '            proxy_http_version 1.1;',
  '            resolver 127.0.0.11;',
  '            #proxy_ssl_certificate     identity.crt;',
  '            #proxy_ssl_certificate_key private_key_identity.pem;',
  '            proxy_ssl_trusted_certificate trustedCA.crt;',
  '            proxy_ssl_verify_depth 7;',
  '            proxy_ssl_verify       on;',
  '            proxy_pass          https://10.0.0.1:8000/$1$is_args$args;',
  '        }',
  '        #endif_tag 10.0.0.1',
  ...ACR_COMMON_TAIL,
]);

const render = (text: string, env: Record<string, string> = {}): string => renderTemplate(text, { env }).text;

test('env_var_tests: RAW_CONFIG_TEXT renders to PARSED_CONFIG (CRLF kept, unset blocks removed)', () => {
  const out = render(RAW_CONFIG_TEXT, {
    NGINX_DEFAULT_PORT: '443',
    DOCKER_REQUEST_ROUTE_ADDRESS: 'registry:5000',
  });
  assert.equal(out, PARSED_CONFIG);
});

test('env_var_tests: the ACR fixture renders to PARSED_ACR_CONFIG', () => {
  const out = render(RAW_ACR_CONFIG_TEXT, {
    NGINX_DEFAULT_PORT: '8000',
    BLOB_UPLOAD_ROUTE_ADDRESS: 'AzureBlobStorageonIoTEdge:11002',
    CONNECTED_ACR_ROUTE_ADDRESS: 'connected-registry:8080',
    IOTEDGE_PARENTHOSTNAME: '10.0.0.1',
  });
  assert.equal(out, PARSED_ACR_CONFIG);
});

test('env_var_tests: boolean expressions in tags (value is a bare variable name)', () => {
  const template =
    '#if_tag boolean_expression[|(!(${DOCKER_REQUEST_ROUTE_ADDRESS}),0,0)]\r\nshould be removed\r\n' +
    '#endif_tag boolean_expression[|(!(${DOCKER_REQUEST_ROUTE_ADDRESS}),0,0)]\r\n' +
    '#if_tag boolean_expression[&(${DOCKER_REQUEST_ROUTE_ADDRESS},1,1)]\r\nshould not be removed\r\n' +
    '#endif_tag boolean_expression[&(${DOCKER_REQUEST_ROUTE_ADDRESS},1,1)]';
  // Same output as Rust. (Rust gets there by dropping the `1` operands: `&(1)`; we evaluate `&(1,1,1)`.)
  assert.equal(
    render(template, { DOCKER_REQUEST_ROUTE_ADDRESS: 'IOTEDGE_PARENTHOSTNAME' }),
    '\r\n#if_tag 1\r\nshould not be removed\r\n#endif_tag 1',
  );
});

test('env_var_tests: resolution priorities', () => {
  const table: Array<{ template: string; env: Record<string, string>; expected: string; why: string }> = [
    { template: '${DUMMY_VARIABLE}', env: {}, expected: '0', why: 'unset, no default → 0' },
    {
      template: '${NGINX_DEFAULT_PORT}',
      env: {},
      expected: '443',
      why: 'DIFFERENCE: Rust gives 8000 since 2021; the README promises 443 (callers may pass 8000)',
    },
    { template: '${NGINX_DEFAULT_TLS}', env: {}, expected: 'TLSv1.2', why: 'default' },
    {
      template: '${NGINX_DEFAULT_PORT}',
      env: { NGINX_DEFAULT_PORT: 'Dummy value' },
      expected: 'Dummy value',
      why: 'env beats default',
    },
    {
      template: '${NGINX_DEFAULT_TLS}',
      env: { NGINX_DEFAULT_TLS: 'Dummy value' },
      expected: 'Dummy value',
      why: 'env beats default',
    },
    {
      template: '${TOKEN_SERVER_PORT}',
      env: { TOKEN_SERVER_PORT: '123' },
      expected: '6001',
      why: 'reserved',
    },
    { template: '${TOKEN_VALIDITY_MINUTES}', env: {}, expected: '30', why: 'reserved' },
  ];
  for (const row of table) assert.equal(render(row.template, row.env), row.expected, row.why);
});

test('Rust 8000 default is available by passing it in defaults', () => {
  const out = renderTemplate('${NGINX_DEFAULT_PORT}', { env: {}, defaults: { NGINX_DEFAULT_PORT: '8000' } });
  assert.equal(out.text, '8000');
});

test('historical vectors (2020-09 → 2021-05, NGINX_CONFIG_ENV_VAR_LIST era)', () => {
  const list =
    'NGINX_DEFAULT_PORT,BLOB_UPLOAD_ROUTE_ADDRESS,DOCKER_REQUEST_ROUTE_ADDRESS,IOTEDGE_PARENTHOSTNAME,IOTEDGE_PARENTAPIPROXYNAME';
  // Indirection by bare name.
  assert.equal(
    render('${DOCKER_REQUEST_ROUTE_ADDRESS}', {
      NGINX_CONFIG_ENV_VAR_LIST: list,
      DOCKER_REQUEST_ROUTE_ADDRESS: 'IOTEDGE_PARENTHOSTNAME',
      IOTEDGE_PARENTHOSTNAME: '127.0.0.1',
    }),
    '127.0.0.1',
  );
  // Negation. DIFFERENCE (whitespace only): the 2020 regex also ate the line end after the
  // negated block's #endif_tag; we treat every removed block alike and keep it, hence "\r\n\r\n".
  const negation =
    '#if_tag !${DOCKER_REQUEST_ROUTE_ADDRESS}\r\nshould be removed\r\n#endif_tag ${DOCKER_REQUEST_ROUTE_ADDRESS}\r\n' +
    '\r\n#if_tag ${DOCKER_REQUEST_ROUTE_ADDRESS}\r\nshould not be removed\r\n#endif_tag ${DOCKER_REQUEST_ROUTE_ADDRESS}';
  assert.equal(
    render(negation, {
      NGINX_CONFIG_ENV_VAR_LIST: list,
      DOCKER_REQUEST_ROUTE_ADDRESS: 'IOTEDGE_PARENTHOSTNAME',
    }),
    '\r\n\r\n#if_tag IOTEDGE_PARENTHOSTNAME\r\nshould not be removed\r\n#endif_tag IOTEDGE_PARENTHOSTNAME',
  );
  // IOTEDGE_PARENTAPIPROXYNAME defaults to the module id and is made a DNS label.
  assert.equal(
    render('${IOTEDGE_PARENTAPIPROXYNAME}', {
      NGINX_CONFIG_ENV_VAR_LIST: list,
      IOTEDGE_MODULEID: 'apiproxy',
    }),
    'apiproxy',
  );
  assert.equal(
    render('${IOTEDGE_PARENTAPIPROXYNAME}', {
      NGINX_CONFIG_ENV_VAR_LIST: list,
      IOTEDGE_PARENTAPIPROXYNAME: 'iotedge_api_proxy',
    }),
    'iotedgeapiproxy',
  );
});

test('the README boolean examples (&(!(A),B) and |(!(A),B)) keep //Hello exactly when documented', () => {
  const cases: Array<[env: Record<string, string>, andKeeps: boolean, orKeeps: boolean]> = [
    [{ ENV_VAR1: 'x1' }, false, false],
    [{}, false, true],
    [{ ENV_VAR1: 'x1', ENV_VAR2: 'x2' }, false, true],
    [{ ENV_VAR2: 'x2' }, true, true],
  ];
  for (const [env, andKeeps, orKeeps] of cases) {
    // The README's closing tag lacks its ']' — it decides nothing, so it is accepted as text.
    const and =
      '#if_tag boolean_expression[&(!(${ENV_VAR1}),${ENV_VAR2})]\n//Hello\n#endif_tag boolean_expression[&(!(${ENV_VAR1}),${ENV_VAR2}) \n';
    const or =
      '#if_tag boolean_expression[|(!(${ENV_VAR1}),${ENV_VAR2})]\n//Hello\n#endif_tag boolean_expression[|(!(${ENV_VAR1}),${ENV_VAR2}) \n';
    assert.equal(render(and, env).includes('//Hello'), andKeeps, `& ${JSON.stringify(env)}`);
    assert.equal(render(or, env).includes('//Hello'), orKeeps, `| ${JSON.stringify(env)}`);
  }
});

test('a Rust vector that is an error for us too: unclosed expression in a tag line', () => {
  assert.throws(
    () => render('a\n#if_tag boolean_expression[&(!(0),!(0),!(0)]\nb\n#endif_tag x'),
    (e: unknown) => e instanceof TemplateError && e.line === 2 && e.code === 'INVALID_BOOLEAN_EXPRESSION',
  );
});
