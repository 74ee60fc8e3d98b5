// `json2xml` (edgemicro's namesake, with its libraries: js2xmlparser 2 and xml2js, so bodies come
// out byte for byte as edgemicro's): GET with Accept xml/json turns a JSON/XML response into the
// other; other methods turn a JSON/XML request body into the other, and the response back.
// `x-apigee-json2xml-disable` turns it off per request. Bodies are buffered, bounded by `maxBytes`
// (default 1 MiB). A body that does not parse is a plugin error (edgemicro crashed the worker).
import { definePlugin, type NativePlugin, type PluginRequest, type PluginResponse } from '@gatehouse/core';
import js2xmlparser from 'js2xmlparser';
import { parseStringPromise } from 'xml2js';
import type { GatewayPluginContext } from '../context.js';
import { Accumulator } from '../shared/accumulator.js';
import { num, sectionOf } from '../shared/options.js';

interface Flags {
  requestJSON: boolean;
  requestXML: boolean;
  responseJSON: boolean;
  responseXML: boolean;
}

const toXml = (content: Buffer | null): string =>
  js2xmlparser.parse('Root', JSON.parse(content ? content.toString('utf8') : 'null') as object);

async function toJson(content: Buffer | null): Promise<string> {
  return JSON.stringify(await parseStringPromise(content ? content.toString('utf8') : ''));
}

export function json2xml(gctx: GatewayPluginContext): NativePlugin {
  return definePlugin({
    name: 'json2xml',
    init(initConfig) {
      const s = sectionOf(gctx.config, 'json2xml', initConfig);
      const max = num(s, 'json2xml', 'maxBytes', 1024 * 1024, 1);
      const flags = new WeakMap<PluginRequest, Flags>();
      const reqBody = new Accumulator<PluginRequest>(max);
      const resBody = new Accumulator<PluginResponse>(max);
      return {
        onRequest({ req }) {
          if (req.headers['x-apigee-json2xml-disable']) return;
          const accept = String(req.headers.accept ?? '');
          const type = String(req.headers['content-type'] ?? '');
          const f: Flags = { requestJSON: false, requestXML: false, responseJSON: false, responseXML: false };
          if (req.method === 'GET') {
            if (accept.includes('application/xml')) f.responseXML = true;
            else if (accept.includes('application/json')) f.responseJSON = true;
          } else if (type.includes('application/json')) {
            f.requestJSON = f.responseJSON = true;
            req.headers['content-type'] = 'application/xml';
          } else if (type.includes('application/xml')) {
            f.requestXML = f.responseXML = true;
            req.headers['content-type'] = 'application/json';
          }
          flags.set(req, f);
        },
        onRequestData({ req }, chunk) {
          const f = flags.get(req);
          if (!f || (!f.requestJSON && !f.requestXML)) return undefined;
          reqBody.add(req, chunk);
          return null;
        },
        async onRequestEnd({ req }, data) {
          const f = flags.get(req);
          if (!f || (!f.requestJSON && !f.requestXML)) return undefined;
          reqBody.add(req, data);
          const content = reqBody.take(req);
          return f.requestJSON ? toXml(content) : toJson(content);
        },
        onResponseData({ req, res }, chunk) {
          const f = flags.get(req);
          if (!f || (!f.responseJSON && !f.responseXML)) return undefined;
          resBody.add(res, chunk);
          return null;
        },
        async onResponseEnd({ req, res, targetResponse }, data) {
          const f = flags.get(req);
          if (!f || (!f.responseJSON && !f.responseXML)) return undefined;
          resBody.add(res, data);
          const content = resBody.take(res);
          const type = String(res.getHeader('content-type') ?? targetResponse?.headers['content-type'] ?? '');
          if (f.responseXML && type.includes('application/json')) {
            res.setHeader('Content-Type', 'application/xml');
            return toXml(content);
          }
          if (f.responseJSON && type.includes('application/xml')) {
            res.setHeader('Content-Type', 'application/json');
            return toJson(content);
          }
          return content;
        },
      };
    },
  });
}
