// Covers secret redaction (redact.ts): every common credential shape planted in realistic contexts (a cargo log line, a
// JSON body, a shell command) is removed by redactSecrets and redactDeep; values of secret-named environment variables
// go whatever their shape; ordinary build-log text (paths, addresses, digests, rustc codes, crate versions, target
// triples) is left byte for byte; fast-check properties for both; and the two places that store text redact it:
// StatusStore.append (pipeline-log.jsonl and the Markdown view) and the failure logs saved by failure analysis.
// Then: the planted-secrets corpus (each credential family in the text it appears in: .env files, CI logs, YAML,
// connection strings, key bodies cut in the middle), a fast-check property per token family (random text around
// the token, quoted, in JSON, after `=`), idempotency and JSON-stays-JSON properties, 8 MiB runs (no RangeError),
// the real failure logs of the repository coming out unchanged (0 false positives), and which names are secret.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { analyzeFailure } from '../pipeline/failure-analysis';
import { StatusStore } from '../pipeline/status-store';
import { classifySecretName, redactDeep, redactSecrets, secretValues } from './redact';
import { seeded } from '../../test/helpers/seeded';

// ---------------------------------------------------------------------------------------------------------------
// Fake credentials of the real shapes, made at run time from a seeded generator (none is a real credential, and
// none sits in the source for a secret scanner to trip on).

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const B64 = ALNUM + '+/';
const B64URL = ALNUM + '-_';
let seedCounter = 100;
function rand(alphabet: string, n: number): string {
  const next = seeded(seedCounter++);
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[Math.floor(next() * alphabet.length)];
  return out;
}
const b64url = (s: string) => Buffer.from(s).toString('base64url');

const S = {
  openai: `sk-${rand(ALNUM, 48)}`,
  openaiProject: `sk-proj-${rand(B64URL, 74)}T3BlbkFJ${rand(B64URL, 74)}A`,
  google: `AIza${rand(ALNUM + '_', 34)}${rand(ALNUM, 1)}`,
  ghp: `ghp_${rand(ALNUM, 36)}`,
  gho: `gho_${rand(ALNUM, 36)}`,
  ghs: `ghs_${rand(ALNUM, 36)}`,
  githubPat: `github_pat_${rand(ALNUM, 22)}_${rand(ALNUM, 59)}`,
  awsId: `AKIA${rand(UPPER + '234567', 16)}`,
  awsSecret: `${rand(B64, 39)}${rand(ALNUM, 1)}`,
  bearer: `${rand(ALNUM, 24)}.${rand(B64URL, 16)}`,
  basic: Buffer.from(`ci-bot:${rand(ALNUM, 16)}`).toString('base64'),
  jwt: `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url('{"sub":"ci-bot","exp":1893456000}')}.${rand(B64URL, 43)}`,
  slack: `xoxb-${rand(DIGITS, 12)}-${rand(DIGITS, 13)}-${rand(ALNUM, 24)}`,
  rsaBody: [rand(B64, 64), rand(B64, 64), rand(B64, 64), `${rand(B64, 40)}==`],
  opensshBody: [rand(B64, 70), rand(B64, 70), rand(B64, 30)],
  urlPassword: `${rand(ALNUM, 10)}-${rand(ALNUM, 6)}`,
  password: `${rand(ALNUM, 6)}!${rand(ALNUM, 8)}`,
  apiKey: rand(LOWER + DIGITS, 32),
  envArbitrary: 'correct horse battery staple #42',
  envPunct: `u$er:p@ss(${rand(ALNUM, 6)})w0rd!`,
};
const RSA_KEY = ['-----BEGIN RSA PRIVATE KEY-----', ...S.rsaBody, '-----END RSA PRIVATE KEY-----'].join('\n');
const OPENSSH_KEY = ['-----BEGIN OPENSSH PRIVATE KEY-----', ...S.opensshBody, '-----END OPENSSH PRIVATE KEY-----'].join(
  '\n',
);

/** A planted secret: the text it sits in, and every piece that must not survive. */
interface Case {
  name: string;
  text: string;
  secrets: string[];
  /** The marker expected in place of the secret. */
  kind: string;
}

const cargo = (line: string) =>
  [
    '   Compiling nextrust-rt v0.1.0 (/work/main/projects/rust-target/rt)',
    line,
    'error: could not compile `nextrust-rt` (lib) due to 1 previous error',
  ].join('\n');

const CASES: Case[] = [
  // OpenAI
  {
    name: 'OpenAI sk- key in a cargo log line',
    text: cargo(`warning: nextrust-rt@0.1.0: build script read OPENAI key ${S.openai} from the environment`),
    secrets: [S.openai],
    kind: 'openai-key',
  },
  {
    name: 'OpenAI sk-proj- key in a JSON body',
    text: JSON.stringify({ model: 'o3', auth: S.openaiProject, messages: [] }),
    secrets: [S.openaiProject],
    kind: 'openai-key',
  },
  {
    name: 'OpenAI sk-proj- key in a shell command',
    text: `OPENAI_API_KEY=${S.openaiProject} npx nextrust request-design --log build.log`,
    secrets: [S.openaiProject],
    kind: 'openai-key',
  },
  // Google
  {
    name: 'Google API key in a URL query',
    text: `curl -s "https://generativelanguage.googleapis.com/v1beta/models?key=${S.google}" | jq .`,
    secrets: [S.google],
    kind: 'google-api-key',
  },
  {
    name: 'Google API key in a JSON body',
    text: JSON.stringify({ apiKey: S.google, model: 'gemini-2.5-pro' }),
    secrets: [S.google],
    kind: 'google-api-key',
  },
  // GitHub
  {
    name: 'GitHub ghp_ token in a git URL of a cargo log',
    text: cargo(`    Updating git repository \`https://x-access-token:${S.ghp}@github.com/nextrust/heapless\``),
    secrets: [S.ghp],
    kind: 'url-credentials',
  },
  {
    name: 'GitHub ghp_ token in a shell command',
    text: `gh auth login --with-token <<< ${S.ghp}`,
    secrets: [S.ghp],
    kind: 'github-token',
  },
  {
    name: 'GitHub gho_ token in a JSON body',
    text: JSON.stringify({ access_token: S.gho, token_type: 'bearer', scope: 'repo' }),
    secrets: [S.gho],
    kind: 'github-token',
  },
  {
    name: 'GitHub ghs_ token in a cargo log line',
    text: cargo(`note: GITHUB_TOKEN=${S.ghs} was set for the build script`),
    secrets: [S.ghs],
    kind: 'github-token',
  },
  {
    name: 'GitHub fine-grained github_pat_ in a shell command',
    text: `export GH_TOKEN=${S.githubPat}; gh pr comment 12 --body ok`,
    secrets: [S.githubPat],
    kind: 'github-token',
  },
  // AWS
  {
    name: 'AWS access key id and secret in an ini file',
    text: `[default]\naws_access_key_id = ${S.awsId}\naws_secret_access_key = ${S.awsSecret}\nregion = eu-central-1\n`,
    secrets: [S.awsId, S.awsSecret],
    kind: 'aws-access-key-id',
  },
  {
    name: 'AWS secret in a shell command',
    text: `AWS_ACCESS_KEY_ID=${S.awsId} AWS_SECRET_ACCESS_KEY=${S.awsSecret} aws s3 cp target/ s3://nextrust-cache/ --recursive`,
    secrets: [S.awsId, S.awsSecret],
    kind: 'aws-secret-access-key',
  },
  {
    name: 'AWS credentials in a JSON body (aws sts output)',
    text: JSON.stringify(
      { Credentials: { AccessKeyId: S.awsId, SecretAccessKey: S.awsSecret, Expiration: '2026-01-01T00:00:00Z' } },
      null,
      2,
    ),
    secrets: [S.awsId, S.awsSecret],
    kind: 'aws-secret-access-key',
  },
  // Authorization headers and bearer tokens
  {
    name: 'Authorization: Bearer in a shell command',
    text: `curl -H "Authorization: Bearer ${S.bearer}" -H 'Accept: application/json' https://api.example.com/v1/models`,
    secrets: [S.bearer],
    kind: 'authorization',
  },
  {
    name: 'Authorization: Basic in an HTTP trace of a cargo log',
    text: cargo(`> GET /index/config.json HTTP/1.1\n> Authorization: Basic ${S.basic}\n> User-Agent: cargo/1.85.0`),
    secrets: [S.basic],
    kind: 'authorization',
  },
  {
    name: 'Bearer token in a JSON Authorization header',
    text: JSON.stringify({ headers: { Authorization: `Bearer ${S.bearer}` } }),
    secrets: [S.bearer],
    kind: 'authorization',
  },
  {
    name: 'bare Bearer token in a log line',
    text: cargo(`warning: retrying the registry request with token Bearer ${S.bearer}`),
    secrets: [S.bearer],
    kind: 'bearer-token',
  },
  // JWT, Slack
  {
    name: 'JWT in a cargo log line',
    text: cargo(`debug: registry session ${S.jwt} expires in 3600s`),
    secrets: [S.jwt],
    kind: 'jwt',
  },
  { name: 'JWT in a JSON body', text: JSON.stringify({ id_token: S.jwt }), secrets: [S.jwt], kind: 'jwt' },
  {
    name: 'Slack xoxb- token in a shell command',
    text: `curl -X POST -H 'Content-type: application/json' --data '{"text":"build failed"}' "https://slack.com/api/chat.postMessage?token=${S.slack}"`,
    secrets: [S.slack],
    kind: 'slack-token',
  },
  // PEM private keys
  {
    name: 'RSA private key block in a log',
    text: cargo(`writing deploy key:\n${RSA_KEY}\ndone`),
    secrets: S.rsaBody,
    kind: 'private-key',
  },
  {
    name: 'OPENSSH private key block in a JSON body (escaped newlines)',
    text: JSON.stringify({ deploy_key: OPENSSH_KEY, host: 'ci.example.com' }),
    secrets: S.opensshBody,
    kind: 'private-key',
  },
  {
    name: 'a PEM block cut off by the end of the log',
    text: `ssh-add output:\n-----BEGIN OPENSSH PRIVATE KEY-----\n${S.opensshBody[0]}\n${S.opensshBody[1]}`,
    secrets: S.opensshBody.slice(0, 2),
    kind: 'private-key',
  },
  // URL credentials
  {
    name: 'URL credentials in a git clone',
    text: `git clone https://ci-bot:${S.urlPassword}@git.example.com/nextrust/llvm-m68k.git vendor/llvm`,
    secrets: [S.urlPassword],
    kind: 'url-credentials',
  },
  {
    name: 'URL credentials in a JSON body',
    text: JSON.stringify({ database_url: `postgres://nextrust:${S.urlPassword}@db.internal:5432/ci` }),
    secrets: [S.urlPassword],
    kind: 'url-credentials',
  },
  // Assignments
  {
    name: 'password= in a shell command',
    text: `mysql_setup --user=ci --password=${S.password} --host=db.internal`,
    secrets: [S.password],
    kind: 'cli-credential',
  },
  {
    name: 'api_key: in a YAML line of a log',
    text: cargo(`config:\n  api_key: ${S.apiKey}\n  endpoint: https://api.example.com`),
    secrets: [S.apiKey],
    kind: 'credential-assignment',
  },
  {
    name: '"api_key": in a JSON body',
    text: JSON.stringify({ api_key: S.apiKey, retries: 3 }),
    secrets: [S.apiKey],
    kind: 'credential-assignment',
  },
  {
    name: 'client_secret= in a URL',
    text: `POST https://oauth.example.com/token?grant_type=client_credentials&client_secret=${S.apiKey}&scope=ci`,
    secrets: [S.apiKey],
    kind: 'credential-assignment',
  },
  {
    name: "DB_PASSWORD='…' in a shell command",
    text: `DB_PASSWORD='${S.password}' ./scripts/migrate.sh`,
    secrets: [S.password],
    kind: 'credential-assignment',
  },
];

describe('redactSecrets: every common credential shape, in realistic contexts', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const out = redactSecrets(c.text, {});
    for (const secret of c.secrets) expect(out).not.toContain(secret);
    expect(out).toContain(`[REDACTED:${c.kind}]`);
    // The text around the secret is kept.
    const firstWord = c.text.split(/\s+/)[0];
    if (!c.secrets.some((s) => firstWord.includes(s)) && !firstWord.startsWith('-----BEGIN'))
      expect(out.startsWith(firstWord.slice(0, 4))).toBe(true);
  });

  it('every case survives no other way either: redactDeep of all of them in one nested value', () => {
    const value = {
      cases: CASES.map((c) => ({ name: c.name, text: c.text, nested: [c.text, { again: c.text }] })),
      count: CASES.length,
      ok: true,
      none: null,
    };
    const out = redactDeep(value, {});
    const json = JSON.stringify(out);
    for (const c of CASES) for (const secret of c.secrets) expect(json).not.toContain(secret);
    // Structure, keys and non-string values are kept; the input is not changed.
    expect(out.count).toBe(CASES.length);
    expect(out.ok).toBe(true);
    expect(out.none).toBeNull();
    expect(out.cases.map((c) => c.name)).toEqual(CASES.map((c) => redactSecrets(c.name, {})));
    expect(out.cases[0].nested[1]).toEqual({ again: out.cases[0].text });
    expect(value.cases[0].text).toBe(CASES[0].text);
  });

  it('redacts the same text the same way twice (idempotent): markers are never redacted again', () => {
    for (const c of CASES) {
      const once = redactSecrets(c.text, {});
      expect(redactSecrets(once, {})).toBe(once);
    }
  });
});

describe('values of secret-named environment variables, whatever their shape', () => {
  const env: NodeJS.ProcessEnv = {
    DEPLOY_SECRET: S.envArbitrary,
    REGISTRY_AUTH: S.envPunct,
    NPM_TOKEN: 'npm_' + rand(ALNUM, 36),
    MY_SERVICE_PASSWORD: 'P' + rand(ALNUM, 11),
    SHORT_TOKEN: 'abc1234', // 7 characters: too short to be treated as a secret
    NEXTRUST_SESSION_ID: 'session-' + rand(LOWER, 8), // named like a secret, but not one
    KEYBOARD_LAYOUT: 'us-international',
    HOME: '/home/ci',
    PATH: '/usr/local/bin:/usr/bin:/bin',
  };

  it('lists the secret values (8+ characters, secret-named, not the excluded names), longest first', () => {
    expect(secretValues(env)).toEqual(
      [S.envArbitrary, S.envPunct, env.NPM_TOKEN, env.MY_SERVICE_PASSWORD].sort((a, b) => b!.length - a!.length),
    );
  });

  it('removes each value wherever it appears, with no name next to it', () => {
    const text = [
      cargo(`warning: build script printed "${S.envArbitrary}"`),
      JSON.stringify({ note: `proxy login ${S.envPunct} accepted`, list: [env.NPM_TOKEN] }),
      `psql "host=db user=ci" -c 'select 1' # pw was ${env.MY_SERVICE_PASSWORD}`,
    ].join('\n');
    const out = redactSecrets(text, env);
    for (const v of [S.envArbitrary, S.envPunct, env.NPM_TOKEN!, env.MY_SERVICE_PASSWORD!])
      expect(out).not.toContain(v);
    expect(out.match(/\[REDACTED:env\]/g)).toHaveLength(4);
    expect(out).toContain('warning: build script printed "[REDACTED:env]"');
  });

  it('leaves the values of excluded and short variables alone', () => {
    const text = `session ${env.NEXTRUST_SESSION_ID} with layout us-international; code abc1234 and abc12345 in /home/ci via /usr/local/bin:/usr/bin:/bin`;
    expect(redactSecrets(text, env)).toBe(text);
  });

  it('reads process.env by default', () => {
    const name = 'NEXTRUST_REDACT_SPEC_TOKEN';
    process.env[name] = S.envArbitrary;
    try {
      expect(redactSecrets(`echo ${S.envArbitrary}`)).toBe('echo [REDACTED:env]');
      expect(redactDeep({ a: [`x ${S.envArbitrary}`] })).toEqual({ a: ['x [REDACTED:env]'] });
    } finally {
      delete process.env[name];
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

const ORDINARY_LOG = [
  '   Compiling nextrust-rt v0.1.0 (/work/main/projects/rust-target/rt)',
  '   Compiling serde v1.0.197',
  '   Compiling tokenizers v0.15.2',
  '   Compiling secret-service v3.0.1',
  '     Running `rustc --crate-name hello --edition=2021 programs/hello/src/main.rs --crate-type bin -C opt-level=2 --target m68k-unknown-linux-gnu -Zbuild-std=core,alloc -C target-cpu=M68040`',
  'error[E0308]: mismatched types',
  '  --> programs/hello/src/main.rs:10:21',
  'error[E0433]: failed to resolve: use of undeclared crate or module `heapless`',
  'warning: field `access_key` is never read',
  'warning: unused variable: `token`',
  'LLVM ERROR: Cannot select: 0x55d5c8a1b2c0: i32,ch = AtomicCmpSwap<(load store seq_cst (s32) on %ir.p)> 0x55d5c89f0e28',
  "m68k-linux-gnu-ld: /tmp/build-a/target/m68k-unknown-linux-gnu/release/deps/hello-c886cf42b91c3be3.o: in function `main': (.text+0x1c): undefined reference to `__sync_fetch_and_add_4'",
  'qemu: uncaught target signal 4 (Illegal instruction) - core dumped at pc 0x80001234',
  'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  vendor/llvm-19.1.5.src.tar.xz',
  'checksum = "b5d7f1d2a8f4c1e0c3a9e8b7d6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7"',
  'HEAD is now at d670460b4b4aece5915caf5c68d12f560a9fe3e4 Add spinlock atomics for the 68000',
  'uuid 123e4567-e89b-12d3-a456-426614174000, build id 0123456789abcdef0123456789abcdef01234567',
  "thread 'main' panicked at library/core/src/panicking.rs:221:5:",
  'The passwords: none configured; see docs/toolchain-bugs.md#keyboard-input',
  '{"reason":"compiler-artifact","package_id":"path+file:///work/main/crates/nextrust-rt#0.1.0","fresh":false}',
  'Bearer of bad news: the M68k backend is experimental',
  'session_token_ttl=3600s',
  'npx nx run rust-target:build --configuration=m68040 --skip-nx-cache',
].join('\n');

describe('ordinary log text is not altered', () => {
  it('leaves a realistic build log byte for byte, with or without an environment of ordinary variables', () => {
    expect(redactSecrets(ORDINARY_LOG, {})).toBe(ORDINARY_LOG);
    expect(
      redactSecrets(ORDINARY_LOG, {
        HOME: '/home/ci',
        PATH: '/usr/bin:/bin',
        NEXTRUST_SESSION_ID: 'c886cf42b91c3be3',
        CARGO_TARGET_DIR: '/tmp/build-a/target',
      }),
    ).toBe(ORDINARY_LOG);
    expect(redactDeep({ log: ORDINARY_LOG.split('\n') }, {})).toEqual({ log: ORDINARY_LOG.split('\n') });
  });

  it('property: lines made of paths, addresses, digests, rustc codes, crate versions and target triples are unchanged', () => {
    const seg = fc.string({
      unit: fc.constantFrom(...(LOWER + DIGITS + '_.-').split('')),
      minLength: 1,
      maxLength: 12,
    });
    const hex = (min: number, max: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: min, maxLength: max });
    const filePath = fc.array(seg, { minLength: 1, maxLength: 6 }).map((s) => '/' + s.join('/'));
    const version = fc.tuple(fc.nat(40), fc.nat(300), fc.nat(30)).map(([a, b, c]) => `v${a}.${b}.${c}`);
    const crate = fc.string({ unit: fc.constantFrom(...(LOWER + '_').split('')), minLength: 1, maxLength: 16 });
    const triple = fc.constantFrom(
      'm68k-unknown-linux-gnu',
      'm68k-next-nextstep',
      'x86_64-unknown-linux-gnu',
      'aarch64-apple-darwin',
    );
    const line = fc.oneof(
      fc.tuple(crate, version, filePath).map(([c, v, p]) => `   Compiling ${c} ${v} (${p})`),
      fc.tuple(filePath, fc.nat(9999), fc.nat(200)).map(([p, l, c]) => `  --> ${p}:${l}:${c}`),
      fc.nat(9999).map((n) => `error[E${String(n).padStart(4, '0')}]: mismatched types`),
      fc.tuple(hex(4, 16), crate).map(([h, s]) => `   0x${h} - ${s}`),
      hex(64, 64).map((h) => `sha256:${h}`),
      hex(40, 40).map((h) => `commit ${h}`),
      fc
        .tuple(triple, fc.constantFrom('M68000', 'M68030', 'M68040', 'M68060'))
        .map(([t, cpu]) => `rustc --target ${t} -C target-cpu=${cpu} -Zbuild-std=core,alloc`),
      fc.tuple(filePath, hex(16, 16)).map(([p, h]) => `${p}/libnextrust_rt-${h}.rlib`),
    );
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), (lines) => {
        const text = lines.join('\n');
        return redactSecrets(text, {}) === text;
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('property: a planted secret never survives, whatever text surrounds it', () => {
  const chars = (alphabet: string, min: number, max: number) =>
    fc.string({ unit: fc.constantFrom(...alphabet.split('')), minLength: min, maxLength: max });
  /**
   * A secret: the text planted, and the value that must not survive. An assignment (`password=…`) is preceded by a
   * character that ends a value (space, quote, comma, semicolon): a name glued to the value before it
   * (`x=1password=…`) is no name.
   */
  const planted: fc.Arbitrary<{ text: string; value: string; assignment?: boolean }> = fc.oneof(
    fc
      .tuple(fc.constantFrom('sk-', 'sk-proj-', 'sk-svcacct-'), chars(ALNUM + '_-', 20, 80), chars(ALNUM, 1, 1))
      .map(([p, s, e]) => ({ text: p + s + e, value: p + s + e })),
    fc
      .tuple(chars(ALNUM + '_-', 34, 34), chars(ALNUM + '_-', 1, 1))
      .map(([s, e]) => ({ text: `AIza${s}${e}`, value: `AIza${s}${e}` })),
    fc
      .tuple(fc.constantFrom('ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'), chars(ALNUM, 36, 60))
      .map(([p, s]) => ({ text: p + s, value: p + s })),
    chars(ALNUM + '_', 22, 90).map((s) => ({ text: `github_pat_${s}`, value: `github_pat_${s}` })),
    fc
      .tuple(fc.constantFrom('AKIA', 'ASIA'), chars(UPPER + DIGITS, 16, 16))
      .map(([p, s]) => ({ text: p + s, value: p + s })),
    fc
      .tuple(
        fc.constantFrom('aws_secret_access_key=', 'AWS_SECRET_ACCESS_KEY: ', '"SecretAccessKey": "'),
        chars(B64 + '=', 40, 40),
      )
      .map(([n, s]) => ({ text: n + s, value: s })),
    fc
      .tuple(fc.constantFrom('xoxb-', 'xoxp-', 'xoxa-'), chars(ALNUM + '-', 10, 60))
      .map(([p, s]) => ({ text: p + s, value: p + s })),
    fc
      .tuple(chars(B64URL, 8, 40), chars(B64URL, 8, 60), chars(B64URL, 8, 60))
      .map(([a, b, c]) => ({ text: `eyJ${a}.eyJ${b}.${c}`, value: `eyJ${a}.eyJ${b}.${c}` })),
    fc
      .tuple(
        fc.constantFrom('Authorization: Bearer ', 'authorization:Basic ', 'Authorization: token '),
        chars(B64 + '._~=-', 8, 60),
      )
      .map(([h, s]) => ({ text: h + s, value: s })),
    chars(ALNUM + '._~+/=-', 8, 60).map((s) => ({ text: `Bearer ${s}`, value: s })),
    // The value's first character is a letter or digit: `password=>x` is the `=>` operator, and `password=:x` or
    // `password==x` other operators too, after which the value is shorter than the 6 characters the rule needs.
    fc
      .tuple(
        fc.constantFrom(
          'password=',
          'PASSWORD: ',
          'api_key=',
          'api-key: ',
          '"api_key": "',
          'client_secret=',
          'DB_PASSWD=',
          'access_token=',
          'token: ',
        ),
        chars(ALNUM, 1, 1),
        chars(ALNUM + '!#$%&*+./:<>?@^_~-', 5, 39),
      )
      .map(([n, f, s]) => ({
        text: n + f + s,
        value: f + s,
        assignment: true,
      })),
    fc
      .tuple(
        fc.constantFrom('https', 'git+ssh', 'postgres', 'redis'),
        chars(ALNUM + '_.-', 1, 12),
        chars(ALNUM + '!$&*+=_.~-', 1, 30),
        chars(LOWER + '.', 1, 20),
      )
      .map(([scheme, u, p, h]) => ({
        text: `${scheme}://${u}:${p}@${h}/x`,
        value: `:${p}@`,
      })),
    fc
      .tuple(
        fc.constantFrom('RSA ', 'OPENSSH ', 'EC ', 'ENCRYPTED ', ''),
        fc.array(chars(B64, 16, 64), { minLength: 1, maxLength: 4 }),
      )
      .map(([k, body]) => ({
        text: `-----BEGIN ${k}PRIVATE KEY-----\n${body.join('\n')}\n-----END ${k}PRIVATE KEY-----`,
        value: body.join('\n'),
      })),
  );
  /** Random text, and realistic log lines, around the secret. */
  const surrounding = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.constantFrom('', ...ORDINARY_LOG.split('\n'), '{"headers": {', 'curl -sS -H', 'export X=1 &&', '   = note: '),
  );
  /** What separates the secret from its surroundings in real text. */
  const separator = fc.constantFrom(' ', '\n', '\t', '"', "'", '(', ')', ',', ';', '<', '>', '`', ' = ', ': ', '\r\n');

  const breakBefore = (sep: string, secret: { assignment?: boolean }) =>
    secret.assignment && !/^[\s"',;]/.test(sep) ? ` ${sep}` : sep;

  it('redactSecrets', () => {
    // Found by this property (a value starting with `>` after `password=` reads as `password =>`): now generated apart.
    expect(redactSecrets('password=>AAAAAA', {})).toBe('password=>[REDACTED:credential-assignment]');
    fc.assert(
      fc.property(surrounding, separator, planted, separator, surrounding, (before, s1, secret, s2, after) => {
        const out = redactSecrets(before + breakBefore(s1, secret) + secret.text + s2 + after, {});
        return !out.includes(secret.value) && out.includes('[REDACTED:');
      }),
      { numRuns: 1000 },
    );
  });

  it('redactDeep, the secret at any depth of a JSON-like value', () => {
    fc.assert(
      fc.property(surrounding, separator, planted, fc.nat(3), (before, s1, secret, depth) => {
        let value: unknown = before + breakBefore(s1, secret) + secret.text;
        for (let i = 0; i < depth; i++) value = i % 2 ? [1, value, null] : { n: i, v: value };
        return !JSON.stringify(redactDeep(value, {})).includes(JSON.stringify(secret.value).slice(1, -1));
      }),
      { numRuns: 500 },
    );
  });

  it('the value of a secret-named variable, of any shape, planted anywhere', () => {
    const markers = ['[REDACTED:env]', '[REDACTED:'];
    const value = fc
      .string({
        unit: fc.constantFrom(...(ALNUM + ' !#$%&()*+,-./:;<=>?@^_{|}~"\'`').split('')),
        minLength: 8,
        maxLength: 40,
      })
      .filter((v) => v.trim().length >= 8 && !markers.some((m) => m.includes(v)));
    fc.assert(
      fc.property(
        fc.constantFrom('DEPLOY_KEY', 'SERVICE_TOKEN', 'APP_SECRET', 'DB_PASSWORD', 'PROXY_AUTH', 'SESSION_COOKIE'),
        value,
        surrounding,
        surrounding,
        (name, v, before, after) => {
          const out = redactSecrets(`${before}${v}${after}`, { [name]: v });
          // (The marker may itself be swallowed by a pattern redaction around it, e.g. `ttl=3600s[REDACTED:env]`.)
          return !out.includes(v) && out.includes('[REDACTED:');
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('what is stored is redacted', () => {
  let dir: string;
  let root: string;
  const envName = 'NEXTRUST_REDACT_SPEC_DEPLOY_TOKEN';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-redact-status-'));
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-redact-ws-'));
    const ws = path.resolve(__dirname, '../../../../projects/ci-status');
    for (const f of ['known-issues.json', 'phases.json']) fs.copyFileSync(path.join(ws, f), path.join(dir, f));
    process.env[envName] = S.envArbitrary;
  });
  afterEach(() => {
    delete process.env[envName];
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  });

  const ALL = [
    S.openaiProject,
    S.ghp,
    S.awsId,
    S.awsSecret,
    S.bearer,
    S.jwt,
    S.slack,
    S.urlPassword,
    S.password,
    ...S.rsaBody,
    S.envArbitrary,
  ];
  const planted = [
    cargo(`warning: OPENAI_API_KEY=${S.openaiProject}`),
    `git clone https://ci-bot:${S.urlPassword}@git.example.com/x.git`,
    `curl -H "Authorization: Bearer ${S.bearer}" https://api.example.com`,
    `AWS_ACCESS_KEY_ID=${S.awsId} AWS_SECRET_ACCESS_KEY=${S.awsSecret} aws s3 ls`,
    `session ${S.jwt}; slack ${S.slack}; gh ${S.ghp}`,
    `mysql --password=${S.password}`,
    RSA_KEY,
    `echo "${S.envArbitrary}"`,
  ];

  it('StatusStore.append redacts the details, at any depth, in the log, the Markdown view and the returned activity', async () => {
    const store = new StatusStore(dir);
    const { activity } = await store.append('build_failed', {
      message: `build failed: ${planted[0]}`,
      command: planted[3],
      nested: { lines: planted, count: planted.length, ok: false },
    });
    const files = [
      fs.readFileSync(path.join(dir, 'pipeline-log.jsonl'), 'utf8'),
      fs.readFileSync(path.join(dir, 'pipeline-log.md'), 'utf8'),
      JSON.stringify(activity),
    ];
    for (const text of files) for (const secret of ALL) expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(activity.details).toMatchObject({ nested: { count: planted.length, ok: false } });
    expect(String(activity.details.message)).toBe(
      'build failed:    Compiling nextrust-rt v0.1.0 (/work/main/projects/rust-target/rt)\nwarning: OPENAI_API_KEY=[REDACTED:openai-key]\nerror: could not compile `nextrust-rt` (lib) due to 1 previous error',
    );
    expect(files[1]).toContain('[REDACTED:');
  });

  it('failure analysis saves the failure log redacted, with the ordinary lines intact', async () => {
    const store = new StatusStore(dir);
    const logText = [ORDINARY_LOG, ...planted].join('\n');
    const a = await analyzeFailure(store, {
      task: 'rust-target:build:m68040',
      project: 'rust-target',
      target: 'build',
      cpu: 'm68040',
      logText,
      workspaceRoot: root,
    });
    expect(a.savedLog).toBeDefined();
    const saved = fs.readFileSync(a.savedLog!, 'utf8');
    for (const secret of ALL) expect(saved).not.toContain(secret);
    expect(saved).toContain(ORDINARY_LOG + '\n');
    expect(saved).toContain('git clone https://ci-bot:[REDACTED:url-credentials]');
    expect(saved).toContain('echo "[REDACTED:env]"');
    // The activities that point at it are redacted too.
    const log = fs.readFileSync(path.join(dir, 'pipeline-log.jsonl'), 'utf8');
    for (const secret of ALL) expect(log).not.toContain(secret);
    expect(log).toContain(path.relative(dir, a.savedLog!));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Edge cases found while writing these tests.

describe('edge cases', () => {
  it('a Google API key ending in "-" (in the key alphabet, so no word boundary after it) is redacted', () => {
    const key = `AIza${rand(ALNUM, 34)}-`;
    expect(key).toHaveLength(39);
    expect(
      redactSecrets(`curl "https://generativelanguage.googleapis.com/v1beta/models?key=${key}"`, {}),
    ).not.toContain(key);
  });

  it('redactDeep replaces a string under a secret-named key whatever it looks like (StatusStore.append uses redactDeep)', async () => {
    const details = { api_key: S.apiKey, password: S.password, client_secret: S.apiKey };
    expect(redactSecrets(JSON.stringify(details), {})).not.toContain(S.apiKey);
    expect(JSON.stringify(redactDeep(details, {}))).not.toContain(S.password);
  });

  it('an Authorization header whose name is quoted (JSON, JS objects) loses its Basic or token credential', () => {
    const text = JSON.stringify({
      headers: { Authorization: `Basic ${S.basic}`, 'X-Other': `token ${S.apiKey}`, authorization2: 'x' },
    });
    expect(redactSecrets(text, {})).not.toContain(S.basic);
  });

  it('a quoted password with spaces is redacted whole, up to its closing quote', () => {
    expect(redactSecrets(`password="${S.envArbitrary}"`, {})).not.toContain('horse battery staple');
  });

  it('an assignment right after another one (the first value ends at "(") is redacted too (found by fast-check)', () => {
    expect(redactSecrets(`retry: session_token=expired(password: ${S.password})`, {})).not.toContain(S.password);
  });

  it('token counts and names that merely contain a secret word are not credentials', () => {
    // (Code assigning to a variable named like a secret, `let token = parse_token(x)`, is redacted on purpose.)
    const text = [
      '{"usage":{"prompt_tokens":1234567,"completion_tokens":654321}}',
      'tokenizer_config=defaultv2',
      'input_tokens: 12000',
    ].join('\n');
    expect(redactSecrets(text, {})).toBe(text);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The planted-secrets corpus: one or more credentials of each family, planted in the text they really appear in
// (a .env file, a CI log, a YAML file, a connection string, a request-design excerpt with numbered lines, a key body
// cut in the middle). Shapes from gitleaks' rules (https://github.com/gitleaks/gitleaks) and the providers' docs.

const HEX = '0123456789abcdef';
const uuid = () => `${rand(HEX, 8)}-${rand(HEX, 4)}-4${rand(HEX, 3)}-a${rand(HEX, 3)}-${rand(HEX, 12)}`;
const PEM_LINES = Array.from({ length: 14 }, () => rand(B64, 64));
const PEM_LAST = `${rand(B64, 42)}==`;
const PGP_LINES = Array.from({ length: 8 }, () => rand(B64, 64));
const PGP_SUM = `=${rand(B64, 4)}`;
const SSH_LINES = Array.from({ length: 6 }, () => rand(B64, 70));
const EC_LINES = Array.from({ length: 4 }, () => rand(B64, 64));

/** A planted credential: the family, the text, the secret pieces that must go, and text around them that must stay. */
interface Planted {
  family: string;
  text: string;
  secrets: string[];
  kept: string[];
}

const planted = (family: string, text: string, secrets: string[], kept: string[] = []): Planted => ({
  family,
  text,
  secrets,
  kept,
});
const numbered = (first: number, lines: string[]) => lines.map((l, i) => `${first + i}: ${l}`);

const PLANTED: Planted[] = [
  // Private keys, whole and in pieces.
  planted(
    'PEM body without its BEGIN/END lines, in a request-design excerpt (numbered lines)',
    [
      ...numbered(37, [
        '+ cat "$DEPLOY_KEY_FILE"',
        ...PEM_LINES.slice(3, 9),
        'error: could not compile `nextrust-rt` (lib)',
      ]),
    ].join('\n'),
    PEM_LINES.slice(3, 9),
    ['37: + cat "$DEPLOY_KEY_FILE"', '44: error: could not compile `nextrust-rt` (lib)'],
  ),
  planted(
    'PEM END line alone, after the last two body lines (the excerpt starts inside the key)',
    [
      '  ' + PEM_LINES[12],
      '  ' + PEM_LINES[13],
      '  ' + PEM_LAST,
      '  -----END RSA PRIVATE KEY-----',
      'error: linking with `m68k-linux-gnu-gcc` failed',
    ].join('\n'),
    [PEM_LINES[12], PEM_LINES[13], PEM_LAST],
    ['error: linking with `m68k-linux-gnu-gcc` failed'],
  ),
  planted(
    'PEM BEGIN line and a body cut off by the end of the excerpt (mid-line)',
    ['warning: writing the deploy key', '-----BEGIN PRIVATE KEY-----', PEM_LINES[0], PEM_LINES[1].slice(0, 30)].join(
      '\n',
    ),
    [PEM_LINES[0], PEM_LINES[1].slice(0, 30)],
    ['warning: writing the deploy key'],
  ),
  planted(
    'encrypted EC key with Proc-Type/DEK-Info headers, no END line',
    [
      '-----BEGIN EC PRIVATE KEY-----',
      'Proc-Type: 4,ENCRYPTED',
      `DEK-Info: AES-128-CBC,${rand(HEX, 32).toUpperCase()}`,
      '',
      ...EC_LINES,
      '   Compiling heapless v0.8.0',
    ].join('\n'),
    EC_LINES,
    ['   Compiling heapless v0.8.0'],
  ),
  planted(
    'PGP private key block with armor headers and checksum',
    [
      'gpg: exporting the signing key',
      '-----BEGIN PGP PRIVATE KEY BLOCK-----',
      'Comment: nextrust release signing',
      '',
      ...PGP_LINES,
      PGP_SUM,
      '-----END PGP PRIVATE KEY BLOCK-----',
    ].join('\n'),
    [...PGP_LINES, PGP_SUM],
    ['gpg: exporting the signing key'],
  ),
  planted(
    'PGP key body without markers, with its checksum line, in a GitHub Actions log (timestamps)',
    [...PGP_LINES.slice(2), PGP_SUM].map((l) => `2026-11-29T16:34:26.0501234Z ${l}`).join('\n') +
      '\n2026-11-29T16:34:26.0601234Z ##[error]Process completed with exit code 1.',
    [...PGP_LINES.slice(2), PGP_SUM],
    ['##[error]Process completed with exit code 1.'],
  ),
  planted(
    'OpenSSH key body (70-character lines) without markers, in a YAML block scalar',
    ['deploy:', '  host: ci.example.com', '  ssh_key: |', ...SSH_LINES.map((l) => `    ${l}`), '  user: ci'].join('\n'),
    SSH_LINES,
    ['  host: ci.example.com', '  user: ci'],
  ),
  planted(
    'GCP service-account JSON ("private_key")',
    JSON.stringify(
      {
        type: 'service_account',
        project_id: 'nextrust-ci',
        private_key_id: rand(HEX, 40),
        private_key: `-----BEGIN PRIVATE KEY-----\n${PEM_LINES.slice(0, 4).join('\n')}\n-----END PRIVATE KEY-----\n`,
        client_email: 'ci@nextrust-ci.iam.gserviceaccount.com',
      },
      null,
      2,
    ),
    PEM_LINES.slice(0, 4),
    ['"client_email": "ci@nextrust-ci.iam.gserviceaccount.com"'],
  ),
  // Secret-named assignments.
  ...(() => {
    const id = `AKIA${rand(UPPER + '234567', 16)}`;
    const secret = rand(B64, 40);
    return [
      planted(
        'AWS_SECRET_KEY= in a .env file',
        `AWS_ACCESS_KEY_ID=${id}\nAWS_SECRET_KEY=${secret}\nAWS_REGION=eu-central-1\n`,
        [id, secret],
        ['AWS_REGION=eu-central-1'],
      ),
    ];
  })(),
  ...(() => {
    const v = rand(ALNUM, 40);
    return [
      planted(
        'export MY_API_TOKEN="…" in a CI log (set -x)',
        `+ export MY_API_TOKEN="${v}"\n+ cargo build --release`,
        [v],
        ['+ cargo build --release'],
      ),
    ];
  })(),
  ...(() => {
    const v = rand(B64URL, 44);
    return [
      planted(
        'deploy_key: in a YAML file',
        `deploy:\n  host: ci.example.com\n  deploy_key: ${v}\n  user: ci\n`,
        [v],
        ['  host: ci.example.com', '  user: ci'],
      ),
    ];
  })(),
  ...(() => {
    const v = rand(HEX, 128);
    return [
      planted(
        'SECRET_KEY_BASE= (a secret word inside the name)',
        `RAILS_ENV=production\nSECRET_KEY_BASE=${v}\n`,
        [v],
        ['RAILS_ENV=production'],
      ),
    ];
  })(),
  ...(() => {
    const v = rand(ALNUM, 40);
    return [
      planted(
        '"client_secret" in a JSON body',
        JSON.stringify({ client_id: 'nextrust-ci', client_secret: v, grant_type: 'client_credentials' }),
        [v],
        ['"client_id":"nextrust-ci"'],
      ),
    ];
  })(),
  ...(() => {
    const v = `${rand(ALNUM, 20)}7${rand(ALNUM, 11)}`;
    return [
      planted(
        'JWT_SECRET= in docker run -e',
        `docker run --rm -e JWT_SECRET=${v} -e RUST_LOG=debug nextrust/ci:latest`,
        [v],
        ['-e RUST_LOG=debug nextrust/ci:latest'],
      ),
    ];
  })(),
  ...(() => {
    const v = rand(HEX, 32);
    return [
      planted(
        'TWILIO_AUTH_TOKEN= (32 hex digits, no prefix)',
        `TWILIO_ACCOUNT_SID=AC${rand(HEX, 32)}\nTWILIO_AUTH_TOKEN=${v}\n`,
        [v],
      ),
    ];
  })(),
  ...(() => {
    const v = uuid();
    return [
      planted(
        'HEROKU_API_KEY= (a UUID)',
        `heroku: using HEROKU_API_KEY=${v} for app nextrust-ci`,
        [v],
        ['for app nextrust-ci'],
      ),
    ];
  })(),
  // Token families by prefix.
  ...(() => {
    const v = `glpat-${rand(B64URL, 20)}`;
    return [
      planted(
        'GitLab glpat- in a CI log',
        `$ echo "using GITLAB_PAT ${v} for the release"\nRunning after_script`,
        [v],
        ['Running after_script'],
      ),
    ];
  })(),
  ...(() => {
    const v = `glrt-${rand(B64URL, 20)}`;
    return [
      planted(
        'GitLab runner token glrt- in a config.toml',
        `[[runners]]\n  url = "https://gitlab.com/"\n  token = "${v}"\n  executor = "docker"`,
        [v],
        ['  executor = "docker"'],
      ),
    ];
  })(),
  ...(() => {
    const v = `npm_${rand(ALNUM, 36)}`;
    return [
      planted(
        'npm_ token in an .npmrc',
        `registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${v}\n`,
        [v],
        ['registry=https://registry.npmjs.org/'],
      ),
    ];
  })(),
  ...(() => {
    const v = rand(B64URL, 120);
    return [
      planted(
        'PyPI token in a .pypirc',
        `[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc${v}\n`,
        [v],
        ['username = __token__'],
      ),
    ];
  })(),
  ...(() => {
    const v = `sk_live_${rand(ALNUM, 99)}`;
    return [
      planted('Stripe sk_live_ in a .env file', `STRIPE_PUBLISHABLE=pk_live_${rand(ALNUM, 24)}\nSTRIPE_SECRET=${v}\n`, [
        v,
      ]),
    ];
  })(),
  ...(() => {
    const v = `rk_live_${rand(ALNUM, 24)}`;
    return [
      planted(
        'Stripe rk_live_ in a log line',
        `stripe: restricted key ${v} lacks permission charges:write`,
        [v],
        ['lacks permission charges:write'],
      ),
    ];
  })(),
  ...(() => {
    const v = `sk_test_${rand(ALNUM, 24)}`;
    return [planted('Stripe sk_test_ in a YAML file', `stripe:\n  mode: test\n  key: ${v}\n`, [v], ['  mode: test'])];
  })(),
  ...(() => {
    const v = `whsec_${rand(ALNUM, 32)}`;
    return [
      planted(
        'Stripe webhook secret whsec_',
        `stripe listen --forward-to localhost:4242/webhook\nReady! Your webhook signing secret is ${v} (^C to quit)`,
        [v],
        ['(^C to quit)'],
      ),
    ];
  })(),
  ...(() => {
    const v = `xapp-1-A${rand(UPPER + DIGITS, 10)}-${rand(DIGITS, 13)}-${rand(HEX, 64)}`;
    return [
      planted('Slack app-level token xapp-', `SLACK_APP_TOKEN=${v}\nSLACK_CHANNEL=#ci`, [v], ['SLACK_CHANNEL=#ci']),
    ];
  })(),
  ...(() => {
    const v = `xoxp-${rand(DIGITS, 12)}-${rand(DIGITS, 12)}-${rand(DIGITS, 13)}-${rand(HEX, 32)}`;
    return [
      planted(
        'Slack user token xoxp- in a JSON body',
        JSON.stringify({ ok: true, access_token: v, scope: 'chat:write' }),
        [v],
        ['"scope":"chat:write"'],
      ),
    ];
  })(),
  ...(() => {
    const v = `T${rand(UPPER + DIGITS, 8)}/B${rand(UPPER + DIGITS, 10)}/${rand(ALNUM, 24)}`;
    return [
      planted(
        'Slack webhook URL in a curl command',
        `curl -X POST -H 'Content-type: application/json' --data '{"text":"m68040 build failed"}' https://hooks.slack.com/services/${v}`,
        [v],
        ['https://hooks.slack.com/services/'],
      ),
    ];
  })(),
  ...(() => {
    const v = `${rand(DIGITS, 18)}/${rand(B64URL, 68)}`;
    return [
      planted(
        'Discord webhook URL',
        `DISCORD_WEBHOOK=https://discord.com/api/webhooks/${v}\nnotify: sent`,
        [v],
        ['notify: sent'],
      ),
    ];
  })(),
  ...(() => {
    const v = `${uuid()}@${uuid()}/IncomingWebhook/${rand(HEX, 32)}/${uuid()}`;
    return [
      planted(
        'Microsoft Teams webhook URL',
        `teams: posting to https://nextrust.webhook.office.com/webhookb2/${v} (200 OK)`,
        [v],
        ['(200 OK)'],
      ),
    ];
  })(),
  ...(() => {
    const v = `${rand(B64, 86)}==`;
    return [
      planted(
        'Azure storage connection string (AccountKey=)',
        `AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=nextrustci;AccountKey=${v};EndpointSuffix=core.windows.net"`,
        [v.slice(0, -2)],
        ['AccountName=nextrustci;AccountKey=', ';EndpointSuffix=core.windows.net"'],
      ),
    ];
  })(),
  ...(() => {
    const v = `${rand(B64, 43)}=`;
    return [
      planted(
        'Azure Service Bus connection string (SharedAccessKey=)',
        `Endpoint=sb://nextrust.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${v}`,
        [v.slice(0, -1)],
        ['SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey='],
      ),
    ];
  })(),
  ...(() => {
    const v = encodeURIComponent(`${rand(B64, 43)}=`);
    return [
      planted(
        'Azure SAS URL (sig=)',
        `az storage blob download --blob-url "https://nextrustci.blob.core.windows.net/cache/target.tar?sv=2022-11-02&ss=b&sp=r&se=2030-01-01T00:00:00Z&sig=${v}" -f target.tar`,
        [v],
        ['" -f target.tar'],
      ),
    ];
  })(),
  ...(() => {
    const v = `github_pat_${rand(ALNUM, 22)}_${rand(ALNUM, 59)}`;
    return [
      planted(
        'GitHub fine-grained PAT in a .env file',
        `GH_TOKEN=${v}\nGH_REPO=nextrust/nextrust`,
        [v],
        ['GH_REPO=nextrust/nextrust'],
      ),
    ];
  })(),
  ...(() => {
    const v = `ghs_${rand(ALNUM, 36)}`;
    return [
      planted(
        'GitHub app installation token ghs_ in a git URL',
        `git fetch https://x-access-token:${v}@github.com/nextrust/nextrust.git`,
        [v],
        ['@github.com/nextrust/nextrust.git'],
      ),
    ];
  })(),
  ...(() => {
    const v = `ghu_${rand(ALNUM, 36)}`;
    return [
      planted(
        'GitHub user-to-server token ghu_ in a JSON body',
        JSON.stringify({ token: v, expires_at: '2026-12-01T00:00:00Z' }),
        [v],
        ['"expires_at":"2026-12-01T00:00:00Z"'],
      ),
    ];
  })(),
  ...(() => {
    const id = `SK${rand(HEX, 32)}`;
    const secret = rand(ALNUM, 32);
    return [
      planted('Twilio API key SID and secret', `TWILIO_API_KEY=${id}\nTWILIO_API_SECRET=${secret}\n`, [id, secret]),
    ];
  })(),
  ...(() => {
    const v = `SG.${rand(B64URL, 22)}.${rand(B64URL, 43)}`;
    return [planted('SendGrid key SG.', `sendgrid: SENDGRID_API_KEY=${v} rejected (401)`, [v], ['rejected (401)'])];
  })(),
  ...(() => {
    const v = `key-${rand(HEX, 32)}`;
    return [
      planted(
        'Mailgun key- in curl --user',
        `curl -s --user 'api:${v}' https://api.mailgun.net/v3/ci.example.com/messages`,
        [v],
        ['https://api.mailgun.net/v3/ci.example.com/messages'],
      ),
    ];
  })(),
  ...(() => {
    const v = `shpat_${rand(HEX, 32)}`;
    return [
      planted(
        'Shopify shpat_ in an HTTP header',
        `> X-Shopify-Access-Token: ${v}\n< HTTP/1.1 200 OK`,
        [v],
        ['< HTTP/1.1 200 OK'],
      ),
    ];
  })(),
  ...(() => {
    const v = `dop_v1_${rand(HEX, 64)}`;
    return [
      planted(
        'DigitalOcean dop_v1_ on a command line',
        `doctl auth init --access-token ${v} --context ci`,
        [v],
        ['--context ci'],
      ),
    ];
  })(),
  ...(() => {
    const v = `hvs.${rand(B64URL, 91)}`;
    return [
      planted(
        'HashiCorp Vault hvs. token',
        `Success! You are now authenticated. token ${v} token_policies ["ci"]`,
        [v],
        ['token_policies ["ci"]'],
      ),
    ];
  })(),
  ...(() => {
    const v = `${rand(ALNUM, 14)}.atlasv1.${rand(ALNUM, 67)}`;
    return [
      planted(
        'Terraform Cloud token in a .terraformrc',
        `credentials "app.terraform.io" {\n  token = "${v}"\n}`,
        [v.split('.atlasv1.')[1]],
        ['credentials "app.terraform.io" {'],
      ),
    ];
  })(),
  ...(() => {
    const v = `sk-ant-api03-${rand(B64URL, 93)}AA`;
    return [
      planted(
        'Anthropic sk-ant- key',
        `ANTHROPIC_API_KEY=${v} claude -p "fix the build"`,
        [v],
        ['claude -p "fix the build"'],
      ),
    ];
  })(),
  ...(() => {
    const v = `hf_${rand(UPPER + LOWER, 34)}`;
    return [
      planted(
        'Hugging Face hf_ token',
        `huggingface-cli login --token ${v} --add-to-git-credential`,
        [v],
        ['--add-to-git-credential'],
      ),
    ];
  })(),
  ...(() => {
    const v = `HRKU-AA${rand(B64URL, 58)}`;
    return [planted('Heroku HRKU- key', `heroku auth:token\n${v}`, [v], ['heroku auth:token'])];
  })(),
  ...(() => {
    const v = `dp.pt.${rand(ALNUM, 43)}`;
    return [planted('Doppler dp.pt. token', `doppler run --token ${v} -- cargo test`, [v], ['-- cargo test'])];
  })(),
  ...(() => {
    const v = `dapi${rand(HEX, 32)}`;
    return [
      planted(
        'Databricks dapi token',
        `DATABRICKS_HOST=https://adb-1.azuredatabricks.net\nDATABRICKS_TOKEN=${v}`,
        [v],
        ['DATABRICKS_HOST=https://adb-1.azuredatabricks.net'],
      ),
    ];
  })(),
  ...(() => {
    const v = `glsa_${rand(ALNUM, 32)}_${rand(HEX, 8)}`;
    return [
      planted(
        'Grafana service-account token glsa_',
        `grafana: ${v} has no access to folder ci`,
        [v],
        ['has no access to folder ci'],
      ),
    ];
  })(),
  ...(() => {
    const v = `dckr_pat_${rand(B64URL, 27)}`;
    return [
      planted(
        'Docker Hub PAT piped to docker login',
        `echo ${v} | docker login -u nextrust --password-stdin`,
        [v],
        ['| docker login -u nextrust --password-stdin'],
      ),
    ];
  })(),
  ...(() => {
    const v = `${rand(DIGITS, 10)}:AA${rand(B64URL, 33)}`;
    return [
      planted(
        'Telegram bot token in a URL',
        `curl -s https://api.telegram.org/bot${v}/sendMessage -d chat_id=42`,
        [v],
        ['/sendMessage -d chat_id=42'],
      ),
    ];
  })(),
  ...(() => {
    const v = `sntryu_${rand(HEX, 64)}`;
    return [planted('Sentry user token', `SENTRY_ORG=nextrust\nSENTRY_AUTH_TOKEN=${v}`, [v], ['SENTRY_ORG=nextrust'])];
  })(),
  ...(() => {
    const v = `lin_api_${rand(ALNUM, 40)}`;
    return [planted('Linear lin_api_ key', `linear: ${v} expired`, [v], [' expired'])];
  })(),
  ...(() => {
    const v = `PMAK-${rand(HEX, 24)}-${rand(HEX, 34)}`;
    return [planted('Postman PMAK- key', `newman run ci.json --postman-api-key ${v}`, [v], ['newman run ci.json'])];
  })(),
  ...(() => {
    const v = `AGE-SECRET-KEY-1${rand('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58)}`;
    return [
      planted(
        'age secret key',
        `# created: 2026-11-29T16:34:26Z\n# public key: age1${rand('qpzry9x8gf2tvdw0s3jn54khce6mua7l', 58)}\n${v}`,
        [v],
        ['# created: 2026-11-29T16:34:26Z'],
      ),
    ];
  })(),
  ...(() => {
    const v = S.openaiProject;
    return [
      planted(
        'OpenAI sk-proj- key in ai.json-like JSON',
        JSON.stringify({ design: { provider: 'openai', key: v } }),
        [v],
        ['"provider":"openai"'],
      ),
    ];
  })(),
  planted(
    'Google API key in a URL query',
    `GET https://generativelanguage.googleapis.com/v1beta/models?key=${S.google} 200`,
    [S.google],
    [' 200'],
  ),
  planted(
    'AWS keys in ~/.aws/credentials',
    `[ci]\naws_access_key_id = ${S.awsId}\naws_secret_access_key = ${S.awsSecret}\n`,
    [S.awsId, S.awsSecret],
    ['[ci]'],
  ),
  planted('JWT in a Cookie header', `> Cookie: session=${S.jwt}; theme=dark`, [S.jwt], ['; theme=dark']),
  planted('Slack bot token xoxb- in a log line', `slack: posting with ${S.slack} to #ci`, [S.slack], [' to #ci']),
  planted(
    'Basic credentials in a Proxy-Authorization header',
    `> Proxy-Authorization: Basic ${S.basic}\n> Host: index.crates.io`,
    [S.basic],
    ['> Host: index.crates.io'],
  ),
  planted(
    'URL credentials in a database URL',
    `DATABASE_URL=postgres://ci:${S.urlPassword}@db.internal:5432/ci`,
    [S.urlPassword],
    ['@db.internal:5432/ci'],
  ),
];

describe('the planted-secrets corpus', () => {
  it('has the credential families the security review planted and more', () => {
    expect(PLANTED.length).toBeGreaterThanOrEqual(60);
    expect(new Set(PLANTED.map((p) => p.family)).size).toBe(PLANTED.length);
  });

  it.each(PLANTED.map((p) => [p.family, p] as const))('%s', (_name, p) => {
    const out = redactSecrets(p.text, {});
    for (const secret of p.secrets) expect(out).not.toContain(secret);
    expect(out).toContain('[REDACTED:');
    for (const k of p.kept) expect(out).toContain(k);
    // Once is enough.
    expect(redactSecrets(out, {})).toBe(out);
  });

  it('none survives redactDeep either, nor a JSON encoding of the whole corpus (a prompt is sent as JSON)', () => {
    const value = { corpus: PLANTED.map((p) => ({ family: p.family, text: p.text })) };
    const deep = JSON.stringify(redactDeep(value, {}));
    const encoded = redactSecrets(JSON.stringify(value, null, 2), {});
    for (const p of PLANTED)
      for (const secret of p.secrets) {
        expect(deep).not.toContain(secret);
        expect(encoded).not.toContain(secret);
      }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('property: each token family, embedded in random log text, never survives', () => {
  const str = (alphabet: string, n: number, max = n) =>
    fc.string({ unit: fc.constantFrom(...alphabet.split('')), minLength: n, maxLength: max });
  /** A token: the text planted and its secret part (what must not survive). */
  type Tok = { text: string; secret: string };
  const tok = (text: string, secret = text): Tok => ({ text, secret });
  const W = ALNUM + '_';
  const W_ = ALNUM + '_-';
  const FAMILIES: [string, fc.Arbitrary<Tok>][] = [
    [
      'OpenAI',
      fc.oneof(
        fc.tuple(str(W_, 74), str(W_, 74)).map(([a, b]) => tok(`sk-proj-${a}T3BlbkFJ${b}`)),
        str(ALNUM, 48).map((a) => tok(`sk-${a}`)),
      ),
    ],
    [
      'Anthropic',
      fc.tuple(fc.constantFrom('api03', 'admin01'), str(W_, 93)).map(([k, a]) => tok(`sk-ant-${k}-${a}AA`)),
    ],
    ['Google', str(W_, 35).map((a) => tok(`AIza${a}`))],
    [
      'GitHub classic/OAuth/app/refresh',
      fc.tuple(fc.constantFrom('ghp', 'gho', 'ghu', 'ghs', 'ghr'), str(ALNUM, 36)).map(([p, a]) => tok(`${p}_${a}`, a)),
    ],
    ['GitHub fine-grained', str(W, 82).map((a) => tok(`github_pat_${a}`, a))],
    [
      'GitLab',
      fc
        .tuple(fc.constantFrom('glpat', 'gldt', 'glrt', 'glft', 'glsoat'), str(W_, 20, 40))
        .map(([p, a]) => tok(`${p}-${a}`, a)),
    ],
    ['npm', str(ALNUM, 36).map((a) => tok(`npm_${a}`, a))],
    ['PyPI', str(W_, 50, 160).map((a) => tok(`pypi-AgEIcHlwaS5vcmc${a}`, a))],
    [
      'Stripe',
      fc
        .tuple(fc.constantFrom('sk', 'rk'), fc.constantFrom('live', 'test'), str(ALNUM, 10, 99))
        .map(([k, m, a]) => tok(`${k}_${m}_${a}`, a)),
    ],
    [
      'Slack tokens',
      fc.oneof(
        fc
          .tuple(str(DIGITS, 10, 13), str(DIGITS, 10, 13), str(ALNUM, 24))
          .map(([a, b, c]) => tok(`xoxb-${a}-${b}-${c}`)),
        fc
          .tuple(str(UPPER + DIGITS, 10), str(DIGITS, 13), str(HEX, 64))
          .map(([a, b, c]) => tok(`xapp-1-A${a}-${b}-${c}`)),
      ),
    ],
    [
      'Slack webhook',
      fc
        .tuple(str(UPPER + DIGITS, 8, 10), str(UPPER + DIGITS, 8, 10), str(ALNUM, 24))
        .map(([t, b, s]) => tok(`https://hooks.slack.com/services/T${t}/B${b}/${s}`, `B${b}/${s}`)),
    ],
    [
      'Discord webhook',
      fc
        .tuple(str(DIGITS, 17, 19), str(W_, 68))
        .map(([id, s]) => tok(`https://discord.com/api/webhooks/${id}/${s}`, s)),
    ],
    ['Twilio', str(HEX, 32).map((a) => tok(`SK${a}`, a))],
    ['SendGrid', fc.tuple(str(W_, 22), str(W_, 43)).map(([a, b]) => tok(`SG.${a}.${b}`, b))],
    ['Mailgun', str(HEX, 32).map((a) => tok(`key-${a}`, a))],
    [
      'Shopify',
      fc.tuple(fc.constantFrom('shpat', 'shpca', 'shppa', 'shpss'), str(HEX, 32)).map(([p, a]) => tok(`${p}_${a}`, a)),
    ],
    [
      'DigitalOcean',
      fc.tuple(fc.constantFrom('dop', 'doo', 'dor'), str(HEX, 64)).map(([p, a]) => tok(`${p}_v1_${a}`, a)),
    ],
    ['Vault', str(W_, 90, 120).map((a) => tok(`hvs.${a}`, a))],
    ['Hugging Face', str(UPPER + LOWER, 34).map((a) => tok(`hf_${a}`, a))],
    ['Heroku', str(W_, 58).map((a) => tok(`HRKU-AA${a}`, a))],
    ['Doppler', str(ALNUM, 43).map((a) => tok(`dp.pt.${a}`, a))],
    [
      'Azure AccountKey',
      str(B64, 86).map((a) =>
        tok(`DefaultEndpointsProtocol=https;AccountName=ci;AccountKey=${a}==;EndpointSuffix=core.windows.net`, a),
      ),
    ],
    [
      'JWT',
      fc
        .tuple(str(B64URL, 10, 40), str(B64URL, 10, 60), str(B64URL, 20, 60))
        .map(([a, b, c]) => tok(`eyJ${a}.eyJ${b}.${c}`, `${b}.${c}`)),
    ],
    [
      'AWS access key id',
      fc.tuple(fc.constantFrom('AKIA', 'ASIA'), str(UPPER + '234567', 16)).map(([p, a]) => tok(`${p}${a}`, a)),
    ],
    [
      'secret-named assignment',
      fc
        .tuple(
          fc.constantFrom(
            'AWS_SECRET_KEY',
            'MY_API_TOKEN',
            'deploy_key',
            'DJANGO_SECRET_KEY',
            'client_secret',
            'DB_PASSWORD',
            'GITLAB_TOKEN',
            'SECRET_KEY_BASE',
            'apiKey',
            'x-api-key',
          ),
          fc.constantFrom(
            'NAME=V',
            'export NAME="V"',
            'NAME: V',
            '"NAME": "V"',
            'NAME := V',
            "NAME='V'",
            '--set NAME=V',
          ),
          str(ALNUM, 1),
          str(ALNUM + '+/._~!@#%^*-', 12, 40),
        )
        // (A letter and a digit in it: a name with the secret word inside, SECRET_KEY_BASE, only loses values that look like secrets.)
        .map(([name, style, first, rest]) => {
          const v = `${first}${rest}7x`;
          return tok(
            style.replace('NAME', () => name).replace('V', () => v),
            v,
          );
        }),
    ],
    [
      'private-key body without markers',
      fc
        .tuple(
          fc.array(str(B64, 64), { minLength: 3, maxLength: 8 }),
          fc.constantFrom('', '    ', '17: ', '2026-11-29T16:34:26.0501234Z '),
        )
        .map(([lines, prefix]) => tok(lines.map((l) => prefix + l).join('\n'), lines.join('\n'))),
    ],
  ];
  /** How a token sits in its line. */
  const context = fc.constantFrom<(t: string) => string>(
    (t) => t,
    (t) => `"${t}"`,
    (t) => `'${t}'`,
    (t) => JSON.stringify({ value: t, n: 1 }),
    (t) => `NEXTRUST_VALUE=${t}`,
    (t) => `value: ${t}`,
    (t) => `(${t})`,
  );
  const noise = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', ...ORDINARY_LOG.split('\n')));
  const separator = fc.constantFrom(' ', '\n', '\t', '"', "'", '(', ')', ',', ';', '<', '>', '`', ' = ', ': ', '\r\n');

  it.each(FAMILIES.map(([name, arb]) => [name, arb] as const))('%s', (name, arb) => {
    const multiLine = name === 'private-key body without markers';
    fc.assert(
      fc.property(noise, separator, arb, context, separator, noise, (before, s1, t, ctx, s2, after) => {
        // A key body is lines: it is planted on lines of its own, as it is printed.
        const text = multiLine ? `${before}\n${t.text}\n${after}` : before + s1 + ctx(t.text) + s2 + after;
        const out = redactSecrets(text, {});
        const secret = multiLine ? t.secret : JSON.stringify(t.secret).slice(1, -1);
        return (
          !out.includes(secret) &&
          !out.includes(t.secret) &&
          out.includes('[REDACTED:') &&
          redactSecrets(out, {}) === out
        );
      }),
      { numRuns: 150 },
    );
  });
});

describe('property: redaction is idempotent and keeps JSON valid, on any mix of secret-like and ordinary fragments', () => {
  const fragment = fc.oneof(
    fc.constantFrom(
      'password=',
      'token: ',
      'api_key="',
      "'",
      '"',
      ' ',
      '\n',
      '\\n',
      '=',
      ':',
      '::',
      'Bearer ',
      'Authorization: Basic ',
      '-u ',
      '--password ',
      'https://',
      'u:p@h',
      '@',
      '-----BEGIN RSA PRIVATE KEY-----',
      '-----END RSA PRIVATE KEY-----',
      '17: ',
      'AccountKey=',
      '?sig=',
      'SECRET_KEY_BASE=',
      'ghp_',
      'sk-',
      'eyJ',
      '.',
      '[REDACTED:x]',
      '[',
      ']',
    ),
    fc.string({ unit: fc.constantFrom(...B64.split('')), minLength: 1, maxLength: 70 }),
    fc.string({ maxLength: 12 }),
  );
  const text = fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join(''));

  it('redact(redact(x)) === redact(x)', () => {
    // Found by this property: a SAS `sig=` value ran on into a marker left by the first pass.
    for (const t of ['?sig=password=&AAAAA'])
      expect(redactSecrets(redactSecrets(t, {}), {})).toBe(redactSecrets(t, {}));
    fc.assert(
      fc.property(text, (t) => {
        const once = redactSecrets(t, {});
        return redactSecrets(once, {}) === once;
      }),
      { numRuns: 2000 },
    );
  });

  it('JSON in, JSON out: request-design redacts the model answer as JSON text and parses it back', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('summary', 'command', 'api_key', 'password', 'note'), text), {
          maxLength: 5,
        }),
        fc.boolean(),
        (fields, pretty) => {
          const json = JSON.stringify(Object.fromEntries(fields), null, pretty ? 2 : undefined);
          const out = redactSecrets(json, {});
          JSON.parse(out);
          return true;
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('very long runs (a line of many MB without separators)', () => {
  // Each run is 8 MiB: V8's regex engine overflowed its backtrack stack (a RangeError out of redactSecrets) on a
  // token body of that length written as `[class]{36,}`.
  const run = 'A1b2'.repeat(2 << 20);
  it.each([
    ['ghp_', ''],
    ['sk-', ''],
    ['xoxb-', ''],
    ['eyJhbGciOiJIUzI1NiJ9.eyJ', '.c2lnbmF0dXJl'],
    ['AccountKey=', ''],
    ['password=', ''],
  ])('%s followed by 8 MiB of token characters: redacted whole, no RangeError', (prefix, suffix) => {
    const out = redactSecrets(`${prefix}${run}${suffix} tail`, {});
    expect(out).toMatch(/^[^ ]{0,20}\[REDACTED:[a-z-]+\] tail$/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('false positives: real and realistic build output is left alone', () => {
  const root = path.resolve(__dirname, '../../../..');
  // The committed fixture logs (real runs of this toolchain); failure logs saved by local runs are not in a clean clone.
  const dirs = ['tools/nx-plugin/src/pipeline/fixtures/failure-logs'];
  const logs = dirs.flatMap((d) =>
    fs
      .readdirSync(path.join(root, d))
      .filter((f) => f.endsWith('.log'))
      .map((f) => [`${d}/${f}`, fs.readFileSync(path.join(root, d, f), 'utf8')] as const),
  );

  it('there are real logs to check (the fixture logs)', () => {
    expect(logs.length).toBeGreaterThanOrEqual(40);
  });

  it.each(logs)('%s comes out unchanged (0 redactions)', (_file, text) => {
    expect(redactSecrets(text, {})).toBe(text);
  });

  it('realistic outputs with digests, hex dumps, symbols, keys that are not secrets and secret-ish words stay byte for byte', () => {
    const sha = () => rand(HEX, 64);
    const text = [
      // sha256sum, a bare digest list, docker digests
      ...Array.from({ length: 4 }, (_, i) => `${sha()}  target/m68k-unknown-linux-gnu/release/hello${i}`),
      ...Array.from({ length: 5 }, () => sha()),
      ...Array.from({ length: 3 }, () => rand(HEX.toUpperCase(), 64)),
      `#12 writing image sha256:${sha()} done`,
      // xxd, objdump, nm
      '00000000: 7f45 4c46 0101 0100 0000 0000 0000 0000  .ELF............',
      '00000010: 0002 0004 0000 0001 8000 0054 0000 0034  ...........T...4',
      '80000054 <_start>:',
      '80000054:\t4e56 0000      \tlinkw %fp,#0',
      '80000058:\t2f3c 0000 0001 \tmovel #1,%sp@-',
      '0000000080001234 T _ZN4core3fmt5write17h0c1a2b3c4d5e6f70E',
      // Rust mangled symbols, bare (legacy and v0) and without the leading underscore
      '_ZN4core9panicking18panic_bounds_check17h3f2e1d0c9b8a7f6eE',
      '_ZN11nextrust_rt4sync8SpinLock4lock17h0123456789abcdefE',
      '_RNvCs1234abcd_11nextrust_rt4main',
      'ZN4core3fmt9Formatter3pad17h9f8e7d6c5b4a3921E',
      'ZN4core9panicking9panic_fmt17h0a1b2c3d4e5f6a7bE',
      'ZN11nextrustrt4sync8SpinLock6unlock17h0123456789abcdefE',
      'ZN4core3ptr85drop_in_place17h00112233445566778E',
      // base32 (Nix) hashes and store paths
      ...Array.from({ length: 3 }, () => rand('0123456789abcdfghijklmnpqrsvwxyz', 52)),
      `/nix/store/${rand('0123456789abcdfghijklmnpqrsvwxyz', 32)}-rustc-1.85.0/bin/rustc`,
      // CI caches, git, cargo
      `Cache restored from key: Linux-cargo-${sha()}`,
      `cache_key=Linux-cargo-${rand(HEX, 16)} restore-keys: Linux-cargo-`,
      `HEAD is now at ${rand(HEX, 40)} Add spinlock atomics`,
      `     Running \`rustc --crate-name hello -C metadata=${rand(HEX, 16)} -C extra-filename=-${rand(HEX, 16)}\``,
      `"integrity": "sha512-${rand(B64, 86)}=="`,
      // names that contain a secret word but hold no secret
      'prompt_tokens: 1234, completion_tokens: 567, max_tokens=4096',
      'loading tokenizer.json; KEYBOARD=us; --target-key-id 0x1234',
      'token_type: bearer; token_count=12; session_token_ttl=3600s; api_key_env: OPENAI_API_KEY',
      'SharedAccessKeyName=RootManageSharedAccessKey',
      'GOOGLE_APPLICATION_CREDENTIALS=/home/ci/gcp.json; credential.helper=store',
      'secrets: inherit',
      'GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}',
      `public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${rand(B64, 43)} ci@nextrust`,
      `256 SHA256:${rand(B64, 43)} ci@nextrust (ED25519)`,
      'password: none configured; auth: true; token: (none); secret: null',
      // rustc code snippets naming fields after secrets
      '   |     token: Token,',
      '   |     password: String,',
      '   |     secret: &str,',
      'error[E0425]: cannot find value `token` in this scope',
      'use crate::token::Token;',
      // a certificate is public: its body stays
      '-----BEGIN CERTIFICATE-----',
      ...Array.from({ length: 4 }, () => rand(B64, 64)),
      '-----END CERTIFICATE-----',
    ].join('\n');
    expect(redactSecrets(text, {})).toBe(text);
  });

  it('property: runs of hex lines, mangled-symbol lines and path lines of PEM line length are no key body', () => {
    const line = fc.oneof(
      fc.string({ unit: fc.constantFrom(...(HEX + HEX.toUpperCase()).split('')), minLength: 40, maxLength: 76 }),
      fc
        .tuple(
          fc.array(fc.string({ unit: fc.constantFrom(...LOWER.split('')), minLength: 2, maxLength: 10 }), {
            minLength: 2,
            maxLength: 5,
          }),
          fc.string({ unit: fc.constantFrom(...HEX.split('')), minLength: 16, maxLength: 16 }),
        )
        .map(([names, h]) => `ZN${names.map((n) => `${n.length}${n}`).join('')}17h${h}E`),
      fc
        .array(fc.string({ unit: fc.constantFrom(...(LOWER + DIGITS).split('')), minLength: 3, maxLength: 12 }), {
          minLength: 4,
          maxLength: 8,
        })
        .map((segs) => '/' + segs.join('/')),
    );
    fc.assert(
      fc.property(fc.array(line, { minLength: 3, maxLength: 10 }), (lines) => {
        const text = lines.join('\n');
        return redactSecrets(text, {}) === text;
      }),
      { numRuns: 500 },
    );
  });
});

describe('classifySecretName: which assignment names hold secrets', () => {
  it.each([
    // The secret word last: any value goes.
    ['AWS_SECRET_KEY', 'strong'],
    ['AWS_SECRET_ACCESS_KEY', 'strong'],
    ['MY_API_TOKEN', 'strong'],
    ['deploy_key', 'strong'],
    ['client_secret', 'strong'],
    ['DB_PASSWORD', 'strong'],
    ['db_passwd', 'strong'],
    ['token', 'strong'],
    ['apiKey', 'strong'],
    ['x-api-key', 'strong'],
    ['AccountKey', 'strong'],
    ['_authToken', 'strong'],
    ['--api-token', 'strong'],
    ['spring.datasource.password', 'strong'],
    ['ssh_passphrase', 'strong'],
    // The secret word inside the name, or a weak word: only secret-looking values go.
    ['SECRET_KEY_BASE', 'weak'],
    ['GITHUB_TOKEN_VALUE', 'weak'],
    ['GH_PAT', 'weak'],
    ['credentials', 'weak'],
    ['NPM_AUTH', 'weak'],
    // No secret.
    ['prompt_tokens', null],
    ['max_tokens', null],
    ['tokenizer', null],
    ['tokenizer_config', null],
    ['KEYBOARD', null],
    ['KEYBOARD_LAYOUT', null],
    ['key', null],
    ['cache_key', null],
    ['PUBLIC_KEY', null],
    ['primaryKey', null],
    ['monkey', null],
    ['hotkey', null],
    ['--target-key-id', null],
    ['ACCESS_KEY_ID', null],
    ['private_key_id', null],
    ['token_type', null],
    ['session_token_ttl', null],
    ['api_key_env', null],
    ['GITHUB_TOKEN_FILE', null],
    ['SharedAccessKeyName', null],
    ['secrets', null],
    ['pat', null],
    ['PWD', null],
  ] as const)('%s: %s', (name, expected) => {
    expect(classifySecretName(name)).toBe(expected);
  });
});
