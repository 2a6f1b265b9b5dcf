import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

// docker-compose 1.29 (Debian bookworm; installed by deploy/local/ensure-infra.sh) validates the file.
// It prints YAML only; its own dependency python3-yaml turns that into JSON, so no YAML package is needed here.

const root = fileURLToPath(new URL('..', import.meta.url));

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  build?: { dockerfile?: string; args?: Record<string, string> };
}

function composeConfig(): { services: Record<string, ComposeService> } {
  const yaml = execFileSync('docker-compose', ['config'], { cwd: root, encoding: 'utf8' });
  const json = execFileSync(
    'python3',
    ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    {
      input: yaml,
      encoding: 'utf8',
    },
  );
  return JSON.parse(json) as { services: Record<string, ComposeService> };
}

const apps = {
  'api-gateway': '8084',
  dispatcher: '8085',
  verifier: '8086',
  billing: '8087',
  inbound: '8088',
  'sip-gateway': '8089',
  'smsc-sim': '9090',
};

test('docker-compose.yml is valid', () => {
  const r = spawnSync('docker-compose', ['config', '-q'], { cwd: root, encoding: 'utf8' });
  expect(r.error).toBeUndefined();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('every service exists with a healthcheck; infra persists and JetStream is on', () => {
  const { services } = composeConfig();
  const names = ['redis', 'mysql', 'nats', 'migrate', ...Object.keys(apps)];
  expect(Object.keys(services).sort()).toEqual(names.sort());

  expect(services.redis?.command?.join(' ')).toMatch(/--appendonly yes/);
  expect(services.redis?.command?.join(' ')).toMatch(/--appendfsync always/);
  expect(services.nats?.command).toContain('-js');
  expect(services.mysql?.environment).toMatchObject({ MARIADB_DATABASE: 'smsfleet' });

  for (const name of names) {
    if (name === 'migrate') continue; // one-shot: the others wait for it to exit 0
    expect(services[name]?.healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(0);
  }
  for (const [name, port] of Object.entries(apps)) {
    const svc = services[name];
    expect(svc?.build?.dockerfile).toBe('deploy/Dockerfile');
    expect(svc?.build?.args?.SERVICE).toBe(name);
    expect(svc?.healthcheck?.test?.join(' ')).toContain(`127.0.0.1:${port}/healthz`);
    if (name !== 'smsc-sim') {
      expect(svc?.environment).toMatchObject({
        HTTP_PORT: port,
        REDIS_URL: 'redis://redis:6379',
        DATABASE_URL: 'mysql://root@mysql:3306/smsfleet',
        NATS_URL: 'nats://nats:4222',
        LOG_LEVEL: 'info',
      });
      expect(svc?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
      expect(svc?.depends_on?.mysql?.condition).toBe('service_healthy');
    }
  }
  expect(services.migrate?.command).toEqual(['migrate']);
  expect(services.migrate?.depends_on?.mysql?.condition).toBe('service_healthy');
});
