import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

describe('deploy/grafana-dashboard.json', () => {
  const dash = JSON.parse(fs.readFileSync(path.join(root, 'deploy/grafana-dashboard.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[]; gridPos: { x: number; w: number } }[];
  };

  test('every metric it queries is registered by a service', () => {
    const code = fs
      .readdirSync(path.join(root, 'services'))
      .flatMap((s) => sources(path.join(root, 'services', s, 'src')))
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    const used = new Set<string>();
    for (const p of dash.panels)
      for (const t of p.targets)
        for (const m of t.expr.matchAll(/\bsmsfleet_[a-z0-9_]+/g))
          used.add(m[0].replace(/_(bucket|count|sum)$/, ''));
    expect(used.size).toBeGreaterThan(15);
    const missing = [...used].filter((m) => !code.includes(`name: '${m}'`));
    expect(missing).toEqual([]);
  });

  test('panels fit the 24-column grid and every panel has a query', () => {
    for (const p of dash.panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
  });
});
