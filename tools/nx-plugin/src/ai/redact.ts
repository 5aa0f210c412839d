/**
 * Secret redaction: nothing secret-looking leaves through a prompt, a log
 * file, the status files or a PR comment (issue 4 §4; the seed's "Token
 * Security: environment variables, never in code", 000).
 *
 * Two nets, both applied to every text before it is sent or stored:
 *  1. values of secret-named environment variables (`*KEY*`, `*TOKEN*`,
 *     `*SECRET*`, `*PASSWORD*`, `*CREDENTIAL*`, `*_AUTH*`, 8+ characters),
 *     replaced wherever they occur, whatever their shape;
 *  2. the shapes of common credentials, from the providers' documented
 *     formats: OpenAI (`sk-…`, `sk-proj-…`), Google API keys (`AIza` + 35),
 *     GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`),
 *     AWS access key ids (`AKIA`/`ASIA` + 16) and secret access keys after
 *     their usual names, Slack tokens (`xox?-`), JWTs, `Authorization:
 *     Bearer/Basic …` (quoted too) and `Bearer …`, API-key headers,
 *     `password=`/`token=`-style assignments (quoted values whole), `curl -u
 *     user:pass` and `--password x`, PEM private key blocks, and URL
 *     credentials (`https://user:pass@`).
 *  3. redactDeep also replaces any string under a secret-named object key.
 * Each secret becomes `[REDACTED:<kind>]`.
 */

/** Environment variable names whose values are secrets. */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|_AUTH|COOKIE|SESSION_ID$)/i;
/** Names that match SECRET_NAME but hold no secret. */
const NOT_SECRET = /^(NEXTRUST_SESSION_ID|CLAUDE_SESSION_ID|GITHUB_RUN_ID|KEYBOARD.*|.*_KEY_ID_PREFIX)$/;

interface Rule {
  kind: string;
  re: RegExp;
  /** Replacement keeping a prefix (e.g. the variable name), default the whole match. */
  keep?: (m: RegExpExecArray) => string;
  /** Text kept after the marker (e.g. a closing quote). */
  after?: (m: RegExpExecArray) => string;
}

/** Characters that end an unquoted secret value (also `\` so that a JSON-escaped `\n` is not eaten). */
const V = `[^\\s"',;(){}\\[\\]\\\\]`;

const RULES: Rule[] = [
  { kind: 'private-key', re: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g },
  { kind: 'openai-key', re: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g },
  { kind: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  { kind: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b/g },
  { kind: 'aws-access-key-id', re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  {
    kind: 'aws-secret-access-key',
    re: /\b(aws_secret_access_key|AWS_SECRET_ACCESS_KEY|SecretAccessKey)(["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/g,
    keep: (m) => `${m[1]}${m[2]}`,
  },
  { kind: 'slack-token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  {
    kind: 'authorization',
    re: new RegExp(`\\b((?:Proxy-)?Authorization["']?\\s*[:=]\\s*["']?(?:Bearer|Basic|token|Token|Digest)\\s+)(?!\\[REDACTED)${V}+`, 'gi'),
    keep: (m) => m[1],
  },
  { kind: 'api-key-header', re: new RegExp(`\\b((?:X-)?(?:Api-Key|Auth-Token|Access-Token|Goog-Api-Key)["']?\\s*:\\s*["']?)(?!\\[REDACTED)${V}+`, 'gi'), keep: (m) => m[1] },
  { kind: 'bearer-token', re: /\b(Bearer\s+)(?!\[REDACTED)[A-Za-z0-9._~+/=-]{8,}/g, keep: (m) => m[1] },
  { kind: 'cli-credential', re: /((?:^|\s)(?:-u|--user)[=\s]+[^\s:]+:)[^\s]+/g, keep: (m) => m[1] },
  { kind: 'cli-credential', re: /((?:^|\s)--(?:password|passwd|token|api-key|secret)[=\s]+)(?!\[REDACTED)\S+/g, keep: (m) => m[1] },
  {
    // name = value, name: value, "name": "value": the name ends in a secret word (so prompt_tokens,
    // tokenizer_config are not names); quoted values are taken whole. Code that assigns to a
    // variable named like a secret (`let token = parse_token(x)`) is redacted too: better too much.
    kind: 'credential-assignment',
    re: new RegExp(
      `\\b([A-Za-z0-9_-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key))(["']?\\s*[:=]\\s*)` +
        `(?:(")(?!\\[REDACTED)[^"\\n]*(")|(')(?!\\[REDACTED)[^'\\n]*(')|(["']?)(?!\\[REDACTED)${V}{6,})`,
      'gi',
    ),
    keep: (m) => `${m[1]}${m[2]}${m[3] ?? m[5] ?? m[7] ?? ''}`,
    after: (m) => m[4] ?? m[6] ?? '',
  },
  { kind: 'url-credentials', re: /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]+(?=@)/gi, keep: (m) => m[1] },
];

/** Values of secret-named variables in `env` (8+ characters), longest first. */
export function secretValues(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([k, v]) => v && v.length >= 8 && SECRET_NAME.test(k) && !NOT_SECRET.test(k))
    .map(([, v]) => v as string)
    .sort((a, b) => b.length - a.length);
}

/**
 * Redacts secrets from `text` (module doc).
 * @param env environment whose secret-named values are removed (default process.env).
 * @returns the text with each secret replaced by `[REDACTED:<kind>]`.
 */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const v of secretValues(env)) out = out.split(v).join('[REDACTED:env]');
  for (const rule of RULES) {
    out = out.replace(rule.re, (...args) => {
      const m = args.slice(0, -2) as unknown as RegExpExecArray;
      return `${rule.keep ? rule.keep(m) : ''}[REDACTED:${rule.kind}]${rule.after ? rule.after(m) : ''}`;
    });
  }
  return out;
}

/** Object keys whose string values are secrets whatever they look like. */
const SECRET_KEY = /(^|[_-])(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|authorization)$/i;

/**
 * Redacts every string inside a JSON-like value (objects and arrays are
 * copied); a string under a secret-named key (`password`, `api_key`,
 * `client_secret`, `session_token`, ...) is replaced whole.
 */
export function redactDeep<T>(value: T, env: NodeJS.ProcessEnv = process.env): T {
  if (typeof value === 'string') return redactSecrets(value, env) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, env)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, typeof v === 'string' && v && SECRET_KEY.test(k) ? '[REDACTED:secret-field]' : redactDeep(v, env)]),
    ) as T;
  }
  return value;
}
