/** The parameters of a Mizu API request, from the query string and a form or JSON body. */
export type MizuParams = Map<string, string>;

/** Reads a parameter by any of its names (`bnum|bnun|to`), case-insensitive names. */
export function param(p: MizuParams, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = p.get(n);
    if (v !== undefined) return v;
  }
  return undefined;
}

export function parseMizuParams(query: string, body: string, contentType: string | undefined): MizuParams {
  const out: MizuParams = new Map();
  const addAll = (sp: URLSearchParams) => {
    for (const [k, v] of sp) {
      const key = k.toLowerCase();
      if (!out.has(key)) out.set(key, v);
    }
  };
  addAll(new URLSearchParams(query));
  if (body) {
    const ct = (contentType ?? '').toLowerCase();
    if (ct.includes('json') || /^\s*\{/.test(body)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new SyntaxError('the request body is not valid JSON');
      }
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
          const key = k.toLowerCase();
          if (out.has(key) || v === null || v === undefined) continue;
          out.set(
            key,
            typeof v === 'string'
              ? v
              : typeof v === 'number' || typeof v === 'boolean'
                ? String(v)
                : JSON.stringify(v),
          );
        }
      } else {
        throw new SyntaxError('the JSON body must be an object');
      }
    } else {
      addAll(new URLSearchParams(body));
    }
  }
  return out;
}
