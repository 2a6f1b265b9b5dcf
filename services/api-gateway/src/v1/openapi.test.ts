import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { buildOpenApi, V1_OPERATIONS } from './openapi.js';
import { mountOperations, V1_BASE } from './v1-routes.js';

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown> };
}

/** Every (METHOD path) the router answers, in OpenAPI template form. */
function routerRoutes(): string[] {
  const router = express.Router();
  const noop = () => undefined;
  mountOperations(router, {
    getOpenApi: noop,
    sendMessage: noop,
    getMessage: noop,
    createBatch: noop,
    getBatch: noop,
    cancelBatch: noop,
  });
  const out: string[] = [];
  // Routes of other modules under /v1 (documented as external operations), found in the sources.
  const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const files = fs
    .readdirSync(srcDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('v1'));
  for (const f of files) {
    const text = fs.readFileSync(path.join(srcDir, f), 'utf8');
    for (const m of text.matchAll(/\.(get|post|put|patch|delete)\(\s*['`](\/v1\/[^'`]*)['`]/g))
      out.push(`${m[1]!.toUpperCase()} ${m[2]!.replace(/:(\w+)/g, '{$1}')}`);
  }
  for (const layer of router.stack as { route?: { path: string; methods: Record<string, boolean> } }[]) {
    if (!layer.route) continue;
    for (const m of Object.keys(layer.route.methods))
      out.push(`${m.toUpperCase()} ${V1_BASE}${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return out.sort();
}

describe('the /v1 OpenAPI document', () => {
  const doc = buildOpenApi() as Doc;

  it('is OpenAPI 3.1 with every component it refers to', () => {
    expect(doc.openapi).toBe('3.1.0');
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map(
      (m) => m[1]!,
    );
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) expect(doc.components.schemas, r).toHaveProperty(r);
    // Component schemas are plain schemas inside the document, not standalone documents.
    expect(JSON.stringify(doc.components.schemas)).not.toContain('"$schema"');
  });

  it('documents exactly the routes the router mounts', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(routerRoutes()).toEqual(documented);
    expect(documented).toEqual(
      expect.arrayContaining([
        'POST /v1/messages',
        'GET /v1/messages/{smsid}',
        'POST /v1/batches',
        'GET /v1/batches/{id}',
        'POST /v1/batches/{id}/cancel',
        'GET /v1/openapi.json',
      ]),
    );
  });

  it('has unique operation ids and a problem document for every error answer', () => {
    const ids = V1_OPERATIONS.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        for (const [status, resp] of Object.entries(op.responses))
          if (Number(status) >= 400)
            expect(JSON.stringify(resp), `${method} ${path} ${status}`).toContain('application/problem+json');
  });

  it('describes the batch limits and the idempotency header', () => {
    const s = JSON.stringify(doc);
    expect(s).toContain('"maxItems":100000');
    expect(s).toContain('Idempotency-Key');
    expect(doc.paths['/v1/batches']!.post).toHaveProperty('requestBody.content.text/csv');
  });
});
