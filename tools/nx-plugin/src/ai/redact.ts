/**
 * Secret redaction: nothing secret-looking leaves the machine through a
 * prompt, a saved log, the status files or a PR comment. Every text sent or
 * stored passes through `redactSecrets` (objects through `redactDeep`); each
 * secret becomes `[REDACTED:<kind>]`, the text around it is kept.
 *
 * The nets, in the order they run:
 *  1. values of secret-named environment variables (`*KEY*`, `*TOKEN*`,
 *     `*SECRET*`, `*PASSWORD*`, `*CREDENTIAL*`, `*_AUTH*`, 8+ characters),
 *     replaced wherever they occur, whatever their shape (`env`);
 *  2. private keys: whole `-----BEGIN … PRIVATE KEY-----` … `-----END …`
 *     blocks (PEM, OpenSSH, PGP `PRIVATE KEY BLOCK`, also JSON-escaped), and
 *     key bodies whose markers fell outside the text (an excerpt of a log): a
 *     BEGIN line and the base64 lines after it, the base64 lines before an END
 *     line, and any run of 3+ lines that are nothing but base64 of PEM line
 *     length (40..76) with the letter mix of random base64 (hex dumps, digest
 *     lists, mangled symbols and paths are not: see isKeyBodyLine);
 *  3. token families by their documented shapes, taken from gitleaks' rule set
 *     (https://github.com/gitleaks/gitleaks, config/gitleaks.toml and
 *     cmd/generate/config/rules/*.go): OpenAI, Anthropic, Google API keys,
 *     GitHub (classic, fine-grained, OAuth, app, refresh), GitLab, npm, PyPI,
 *     Stripe (incl. webhook secrets), Slack (bot/user/app/config tokens and
 *     webhook URLs), Discord and Microsoft Teams webhook URLs, Twilio, SendGrid,
 *     Mailgun, Shopify, DigitalOcean, HashiCorp Vault and Terraform Cloud,
 *     Hugging Face, Heroku, Doppler, Databricks, Grafana, Sentry, Linear,
 *     Postman, Pulumi, RubyGems, PlanetScale, Docker Hub, age, Artifactory,
 *     Dynatrace, Fly.io, 1Password, Telegram bot tokens, AWS access key ids,
 *     JWTs; and Azure storage/Service Bus connection strings (`AccountKey=`,
 *     `SharedAccessKey=`, `SharedAccessSignature=`, SAS `sig=`), whose shape is
 *     Microsoft's (https://learn.microsoft.com/azure/storage/common/storage-configure-connection-string);
 *  4. credentials by their place: `Authorization: Bearer/Basic/token …`
 *     (quoted too), API-key headers, `Bearer …`, `curl -u user:pass`,
 *     `--password x`/`--token x`;
 *  5. assignments to a secret-named name in env, shell, YAML, JSON, INI, URL
 *     query or code style (`AWS_SECRET_KEY=…`, `export MY_API_TOKEN="…"`,
 *     `deploy_key: …`, `"client_secret": "…"`, `?api_key=…`): see
 *     classifySecretName for which names count (`prompt_tokens`, `tokenizer`,
 *     `KEYBOARD`, `cache_key`, `token_type`, `--target-key-id` do not);
 *  6. URL credentials (`https://user:pass@host`).
 *  `redactDeep` also replaces any string under a secret-named object key.
 *
 * Linear time, whatever the text: every pattern starts with a literal or may
 * only start where a run of its characters starts (a lookbehind), so that an
 * unbounded repetition that fails is not retried inside the same run; bounded
 * repetitions bound the rest; `[class]{n,}` is run as `[class]{n}[class]*`
 * (unrollMin: no regex stack overflow on a run of many MB); key blocks,
 * key bodies and assignments are one-pass scans. `tools/bench/redaction.ts`
 * measures it on single lines of 1, 10 and 30 MB.
 *
 * Redaction is idempotent (a marker is never redacted again) and keeps JSON
 * text valid JSON (no redaction takes a quote or a backslash of an escape:
 * design.ts redacts a model's answer as JSON text and parses it back).
 */

/** The text a secret is replaced with. */
export function marker(kind: string): string {
  return `[REDACTED:${kind}]`;
}

/** Environment variable names whose values are secrets. */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|_AUTH|COOKIE|SESSION_ID$)/i;
/** Names that match SECRET_NAME but hold no secret. */
const NOT_SECRET = /^(NEXTRUST_SESSION_ID|CLAUDE_SESSION_ID|GITHUB_RUN_ID|KEYBOARD.*|.*_KEY_ID_PREFIX)$/;

/** A pattern redaction. */
interface Rule {
  kind: string;
  re: RegExp;
  /** Text kept before the marker (e.g. the variable name), default none: the whole match is replaced. */
  keep?: (m: RegExpExecArray) => string;
}

/** Characters that end an unquoted secret value (also `\` so that a JSON-escaped `\n` is not eaten). */
const V = `[^\\s"',;(){}\\[\\]\\\\]`;

/**
 * Where a token may start: not after a character of `chars` (so that `dop_v1_` inside a longer word is not one, and
 * a pattern is tried only where a run starts), unless that character follows a backslash: the `n` of a JSON escape
 * (`"…\nghp_…"`; a prompt is sent as JSON). (A negative lookbehind: a positive one with alternatives is tried slowly
 * at every position, 10x slower.)
 */
const startAfter = (chars: string) => `(?<!(?<!\\\\)[${chars}])`;
/** startAfter word characters: `\b` before a word, JSON escapes counted as breaks. */
const START = startAfter('A-Za-z0-9_');

/** A token that starts with a literal prefix (startAfter `before`). */
function token(kind: string, source: string, before = 'A-Za-z0-9_'): Rule {
  return { kind, re: new RegExp(`${startAfter(before)}(?:${source})`, 'g') };
}

/**
 * The BEGIN and END lines of private keys: PEM (`RSA`, `EC`, `DSA`, `ENCRYPTED`, plain; RFC 7468), OpenSSH, and PGP
 * (`PGP PRIVATE KEY BLOCK`; RFC 4880).
 */
const KEY_MARKER = /-----(BEGIN|END) [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
/** Most characters from a BEGIN line to its END line that make one block (a 4096-bit RSA key is about 3.3 KB). */
const MAX_KEY_BLOCK = 65_536;

/**
 * Whole private-key blocks, BEGIN to the next END (at most MAX_KEY_BLOCK apart), across real or JSON-escaped line
 * breaks, become one marker. One pass over the markers (a regex with a lazy `[\s\S]*?` to END would rescan the rest
 * of the text from every BEGIN that has no END).
 */
function redactKeyBlocks(text: string): string {
  if (!text.includes('PRIVATE KEY')) return text;
  let out = '';
  let last = 0;
  let open = -1;
  KEY_MARKER.lastIndex = 0;
  for (let m = KEY_MARKER.exec(text); m; m = KEY_MARKER.exec(text)) {
    if (m[1] === 'BEGIN') {
      if (open < 0 || m.index - open > MAX_KEY_BLOCK) open = m.index;
    } else if (open >= 0 && m.index - open <= MAX_KEY_BLOCK) {
      out += text.slice(last, open) + marker('private-key');
      last = m.index + m[0].length;
      open = -1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Token families (module doc, 3), most specific first. */
const FAMILY_RULES: Rule[] = [
  token('anthropic-key', 'sk-ant-[A-Za-z0-9_-]{20,}'),
  token('openai-key', 'sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}'),
  token('google-api-key', 'AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])'),
  token('github-token', 'gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}'),
  token(
    'gitlab-token',
    '(?:glpat|gldt|glft|glrt|glsoat|glptt|glcbt|glimt|glagent|gloas|glffct)-[0-9A-Za-z_.-]{20,}|GR1348941[0-9A-Za-z_-]{20,}',
  ),
  token('npm-token', 'npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])'),
  token('pypi-token', 'pypi-AgE[A-Za-z0-9_-]{50,}'),
  token('stripe-key', '(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{24,}'),
  token('slack-token', 'xox[abposre]-[A-Za-z0-9-]{10,}|xoxe\\.xox[bp]-[A-Za-z0-9-]{10,}|xapp-[0-9]+-[A-Za-z0-9-]{10,}'),
  {
    kind: 'slack-webhook',
    re: /((?:https?:\/\/)?hooks\.slack\.com\/(?:services|workflows|triggers)\/)[A-Za-z0-9+/_-]{20,}/g,
    keep: (m) => m[1],
  },
  {
    kind: 'discord-webhook',
    re: /(https?:\/\/(?:(?:ptb|canary)\.)?discord(?:app)?\.com\/api\/(?:v[0-9]+\/)?webhooks\/)[0-9]{5,30}\/[A-Za-z0-9_-]{20,}/g,
    keep: (m) => m[1],
  },
  {
    kind: 'teams-webhook',
    re: /(https:\/\/[A-Za-z0-9-]+\.webhook\.office\.com\/webhook(?:b2)?\/)[A-Za-z0-9@/_-]{20,}/g,
    keep: (m) => m[1],
  },
  token('twilio-key', 'SK[0-9a-fA-F]{32}(?![0-9A-Za-z])'),
  token('sendgrid-key', 'SG\\.[A-Za-z0-9_-]{16,32}\\.[A-Za-z0-9_-]{16,64}'),
  // (Not after `-` either: `cache-key-<md5>` is a cache key.)
  token('mailgun-key', 'key-[0-9a-f]{32}(?![0-9A-Za-z])', 'A-Za-z0-9_-'),
  token('shopify-token', 'shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}'),
  token('digitalocean-token', 'do[opr]_v1_[a-f0-9]{64}'),
  token('vault-token', 'hv[sbr]\\.[A-Za-z0-9_-]{24,}'),
  // `<14 characters>.atlasv1.<60+>`: matched from the literal (a pattern starting with a class would be tried at every
  // word), the 14 characters before it checked by a lookbehind and kept.
  { kind: 'terraform-token', re: /\.atlasv1\.(?<=(?<![A-Za-z0-9_])[A-Za-z0-9]{14}\.atlasv1\.)[A-Za-z0-9_=-]{60,}/g },
  token('huggingface-token', '(?:hf_|api_org_)[A-Za-z0-9]{30,}'),
  token('heroku-key', 'HRKU-[A-Za-z0-9_-]{30,}'),
  token('doppler-token', 'dp\\.(?:pt|st|sa|ct|scim|audit)\\.[A-Za-z0-9]{40,}'),
  token('databricks-token', 'dapi[a-f0-9]{32}(?:-[0-9])?(?![0-9A-Za-z])'),
  token(
    'grafana-token',
    'glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|eyJrIjoi[A-Za-z0-9]{70,}={0,2}',
  ),
  token('sentry-token', 'sntry[us]_[A-Za-z0-9+/=_]{40,}'),
  token('linear-key', 'lin_api_[A-Za-z0-9]{40}'),
  token('postman-key', 'PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}'),
  token('pulumi-token', 'pul-[a-f0-9]{40}'),
  token('rubygems-key', 'rubygems_[a-f0-9]{48}'),
  token('planetscale-token', 'pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.-]{32,}'),
  token('dockerhub-token', 'dckr_pat_[A-Za-z0-9_-]{27,}'),
  token('age-key', 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}'),
  token('artifactory-key', 'AKCp[A-Za-z0-9]{69}'),
  token('dynatrace-token', 'dt0c01\\.[A-Za-z0-9]{24}\\.[A-Za-z0-9]{64}'),
  token('flyio-token', 'fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3}'),
  token('onepassword-token', 'ops_eyJ[A-Za-z0-9+/]{250,}={0,3}'),
  // (Only digits may not precede it: in `https://api.telegram.org/bot<token>/` it follows `bot`.)
  token('telegram-bot-token', '[0-9]{8,10}:AA[0-9A-Za-z_-]{33}(?![0-9A-Za-z_-])', '0-9'),
  token('aws-access-key-id', '(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16}(?![0-9A-Za-z])'),
  {
    kind: 'aws-secret-access-key',
    re: new RegExp(
      `${START}(aws_secret_access_key|AWS_SECRET_ACCESS_KEY|SecretAccessKey)(["']?\\s*[:=]\\s*["']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])`,
      'g',
    ),
    keep: (m) => `${m[1]}${m[2]}`,
  },
  {
    // Azure connection strings: AccountKey=<base64>; SharedAccessKey=<base64>.
    kind: 'azure-key',
    re: new RegExp(
      `(${START}(?:AccountKey|SharedAccessKey|PrimaryKey|SecondaryKey)\\s*=\\s*)(?!\\[REDACTED)[A-Za-z0-9+/]{16,}={0,2}`,
      'gi',
    ),
    keep: (m) => m[1],
  },
  {
    // SharedAccessSignature=sv=…&sig=…; and the `sig=` of a SAS URL or of a Logic Apps (Teams workflow) URL.
    kind: 'azure-sas',
    re: new RegExp(`(${START}SharedAccessSignature\\s*=\\s*|[?&]sig=)(?!\\[REDACTED)[^\\s;"'&<>\\\\[]{10,}`, 'gi'),
    keep: (m) => m[1],
  },
  // (`-` before it too: the body can fail after a long run, so attempts may only start where a run starts.)
  token('jwt', 'eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}', 'A-Za-z0-9_-'),
];

/** Credentials by their place (module doc, 4). */
const PLACE_RULES: Rule[] = [
  {
    kind: 'authorization',
    re: new RegExp(
      `${START}((?:Proxy-)?Authorization["']?[ \\t]*[:=][ \\t]*["']?(?:Bearer|Basic|token|Token|Digest)[ \\t]+)(?!\\[REDACTED)${V}+`,
      'gi',
    ),
    keep: (m) => m[1],
  },
  {
    kind: 'api-key-header',
    re: new RegExp(
      `${START}((?:X-)?(?:Api-Key|Auth-Token|Access-Token|Goog-Api-Key)["']?[ \\t]*:(?!=)[ \\t]*["']?)(?!\\[REDACTED)${V}+`,
      'gi',
    ),
    keep: (m) => m[1],
  },
  {
    kind: 'bearer-token',
    re: new RegExp(`${START}(Bearer\\s+)(?!\\[REDACTED)[A-Za-z0-9._~+/=-]{8,}`, 'g'),
    keep: (m) => m[1],
  },
  // (The user name holds no `[`, `]`, `=`: `-u password=[REDACTED:…]` is no `user:pass`; a value never starts with
  // `=`, so that `--password =[REDACTED:…]` is not taken again with ` ` as the separator.)
  {
    kind: 'cli-credential',
    re: /((?:^|\s)(?:-u|--user)(?:[ \t]*=[ \t]*|[ \t]+)[^\s:"'\\[\]=]+:)[^\s"'\\]+/g,
    keep: (m) => m[1],
  },
  {
    kind: 'cli-credential',
    re: /((?:^|\s)--(?:password|passwd|token|api-key|secret)(?:[ \t]*=[ \t]*|[ \t]+))(?!\[REDACTED|=)[^\s"'\\]+/g,
    keep: (m) => m[1],
  },
];

/**
 * URL credentials (module doc, 6): matched from the `://` (the scheme before it, a whole run of scheme characters,
 * checked by a lookbehind), so that the pattern is only tried where a `://` is.
 */
const URL_RULE: Rule = {
  kind: 'url-credentials',
  re: /:\/\/(?<=(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/:@"\\]+:)[^\s/@"\\]+(?=@)/g,
  keep: (m) => `://${m[1]}`,
};

/**
 * Rewrites each `[class]{n,}` as `[class]{n}[class]*`. V8's regex engine runs `[class]*` as a greedy loop that
 * backtracks by position, but `[class]{n,}` (n > 1) with one backtrack entry per character: on a run of several MB
 * (`ghp_` + 8 MB of letters) its stack overflows and `replace` throws a RangeError.
 */
function unrollMin(re: RegExp): RegExp {
  const src = re.source;
  let out = '';
  for (let i = 0; i < src.length;) {
    if (src[i] === '\\') {
      out += src.slice(i, i + 2);
      i += 2;
    } else if (src[i] === '[') {
      let j = i + 1;
      while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
      const cls = src.slice(i, j + 1);
      const q = /^\{([0-9]+),\}/.exec(src.slice(j + 1, j + 12));
      out += q && Number(q[1]) > 1 ? `${cls}{${q[1]}}${cls}*` : cls;
      i = j + 1 + (q && Number(q[1]) > 1 ? q[0].length : 0);
    } else {
      out += src[i++];
    }
  }
  return new RegExp(out, re.flags);
}

/** The rules in the order they run, their patterns unrolled (unrollMin). */
const ORDERED = (rules: Rule[]): Rule[] => rules.map((r) => ({ ...r, re: unrollMin(r.re) }));

function applyRule(text: string, rule: Rule): string {
  return text.replace(rule.re, (...args) => {
    const m = args.slice(0, -2) as unknown as RegExpExecArray;
    return `${rule.keep ? rule.keep(m) : ''}${marker(rule.kind)}`;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Private-key bodies without their markers (module doc, 2).

/** A line break, real or JSON-escaped (a key inside a JSON string). */
const LINE_BREAK = /(\r?\n|\\r\\n|\\n)/;
/**
 * What may precede a log line's text: indentation, the opening of a JSON string member (`"text": "`), a `N: ` line
 * number (request-design excerpts), an ISO timestamp (CI logs).
 */
const LINE_PREFIX =
  /^[ \t]*(?:"[^"\\]{1,64}"[ \t]*:[ \t]*")?[ \t]*(?:[0-9]{1,9}: ?)?(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,18}Z? ?)?[ \t]*/;
/** A line of nothing but base64, padding allowed at the end. */
const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;
/** A PEM/PGP armor header line inside a key (RFC 1421 `Proc-Type`, `DEK-Info`; RFC 4880 `Version`, `Comment`, `Hash`). */
const ARMOR_HEADER = /^(?:Proc-Type|DEK-Info|Version|Comment|Hash|Charset):/;
/** A BEGIN line (matched where `-----BEGIN ` is) and any key text after it on the same line (a key printed on one line). */
const BEGIN_AT = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/= ]*/y;
/** An END line (matched where `-----END ` is). */
const END_AT = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/y;
/** The BEGIN line of something public (`CERTIFICATE`, `PUBLIC KEY`, `PGP PUBLIC KEY BLOCK`, `PGP SIGNATURE`): its body is kept. */
const BEGIN_PUBLIC = /-----BEGIN (?![A-Z0-9 ]{0,40}PRIVATE KEY)[A-Z0-9 ]{1,60}-----/;

/** The shape of one line for the key-body net. */
type LineShape = 'body' | 'base64' | 'armor' | 'blank' | 'begin' | 'end' | 'public' | 'other';

interface ShapedLine {
  shape: LineShape;
  /** The part of the line that is redacted: after its prefix and before its suffix, or the marker (begin, end). */
  from: number;
  to: number;
}

/**
 * Whether `s` (a line without prefix) is a line of a key body: 40..76 base64 characters (PEM lines are 64, OpenSSH
 * 70, PGP 64, MIME 76), not all hex digits (digest lists, hex dumps), with both cases of letters.
 */
function isKeyBodyLine(s: string): boolean {
  if (s.length < 40 || s.length > 78 || !BASE64_LINE.test(s)) return false;
  if (/^[0-9a-fA-F]+$/.test(s)) return false;
  return /[A-Z]/.test(s) && /[a-z]/.test(s);
}

/**
 * Random base64 has about 40 % upper- and 40 % lower-case letters; a run of lines with fewer than 20 % of either is
 * not a key (mangled symbol names, camel-case identifiers, base32 hashes).
 */
function looksRandomBase64(lines: string[]): boolean {
  let upper = 0;
  let lower = 0;
  let n = 0;
  for (const l of lines) {
    n += l.length;
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      if (c >= 65 && c <= 90) upper++;
      else if (c >= 97 && c <= 122) lower++;
    }
  }
  return upper >= 0.2 * n && lower >= 0.2 * n;
}

/**
 * A BEGIN or END line of a private key in `line`: from its first marker (with the key text before an END) to its
 * last (with the key text after a BEGIN), so that no marker is left for a second pass.
 */
function keyMarker(line: string): ShapedLine | undefined {
  let first = -1;
  let last = -1;
  let begin = false;
  for (let b = line.indexOf('-----BEGIN '); b >= 0; b = line.indexOf('-----BEGIN ', b + 1)) {
    BEGIN_AT.lastIndex = b;
    const m = BEGIN_AT.exec(line);
    if (!m) continue;
    if (first < 0) first = b;
    last = Math.max(last, b + m[0].length);
    begin = true;
  }
  for (let e = line.indexOf('-----END '); e >= 0; e = line.indexOf('-----END ', e + 1)) {
    END_AT.lastIndex = e;
    const m = END_AT.exec(line);
    if (!m) continue;
    let from = e;
    while (from > 0 && /[A-Za-z0-9+/= ]/.test(line[from - 1])) from--;
    first = first < 0 ? from : Math.min(first, from);
    last = Math.max(last, e + m[0].length);
  }
  return first < 0 ? undefined : { shape: begin ? 'begin' : 'end', from: first, to: last };
}

/** Where a line's text ends: before trailing blanks, then the end of a JSON string (`"`, `",`, `\"`) or an excerpt's cut mark `…`. */
function textEnd(line: string, from: number): number {
  let to = line.length;
  while (to > from && ' \t\r'.includes(line[to - 1])) to--;
  if (to > from && line[to - 1] === '…') return to - 1;
  if (to > from && line[to - 1] === ',' && line[to - 2] === '"') to--;
  if (to > from && line[to - 1] === '"') to -= line[to - 2] === '\\' ? 2 : 1;
  return Math.max(from, to);
}

function shapeOf(line: string): ShapedLine {
  const marked = line.includes('-----') ? keyMarker(line) : undefined;
  if (marked) return marked;
  // Too long for a key line.
  if (line.length > 512) return { shape: 'other', from: 0, to: 0 };
  const from = LINE_PREFIX.exec(line)![0].length;
  const to = textEnd(line, from);
  const s = line.slice(from, to);
  if (s === '') return { shape: 'blank', from, to };
  if (BEGIN_PUBLIC.test(line)) return { shape: 'public', from, to };
  if (isKeyBodyLine(s)) return { shape: 'body', from, to };
  // A shorter base64 line (the last of a body).
  if (s.length <= 78 && BASE64_LINE.test(s)) return { shape: 'base64', from, to };
  if (ARMOR_HEADER.test(s) || /^=[A-Za-z0-9+/]{4}$/.test(s)) return { shape: 'armor', from, to };
  return { shape: 'other', from, to };
}

/**
 * Redacts private-key material whose BEGIN/END lines are missing or apart (module doc, 2): a BEGIN line and the
 * base64/armor lines after it; an END line and the base64 lines before it; and runs of 3+ key-body lines
 * (isKeyBodyLine, looksRandomBase64), with the short base64 line that ends such a run. A redacted line keeps its
 * prefix and suffix (line number, timestamp, indentation, the quotes of a JSON string: JSON stays JSON) and its key
 * text becomes the marker. Lines are split at real and JSON-escaped line breaks. Linear: one pass over the lines.
 */
function redactKeyBodies(text: string): string {
  // A body needs 3 lines; a single line can only hold a marker.
  if (!text.includes('-----') && !(/\n|\\n/.test(text) && /[A-Za-z0-9+/]{40}/.test(text))) return text;
  const parts = text.split(LINE_BREAK);
  // parts: line, break, line, break, ..., line
  const lines: string[] = [];
  for (let i = 0; i < parts.length; i += 2) lines.push(parts[i]);
  const shapes = lines.map(shapeOf);
  const out = lines.slice();
  const done = new Array<boolean>(lines.length).fill(false);
  const wipe = (i: number) => {
    if (done[i]) return;
    done[i] = true;
    out[i] = lines[i].slice(0, shapes[i].from) + marker('private-key') + lines[i].slice(shapes[i].to);
  };
  const keyish = (s: LineShape) => s === 'body' || s === 'base64' || s === 'armor';

  for (let i = 0; i < lines.length; i++) {
    const { shape } = shapes[i];
    if (shape === 'public') {
      // A certificate or public key: its body lines are no key body.
      for (let j = i + 1; j < lines.length && (keyish(shapes[j].shape) || shapes[j].shape === 'blank'); j++)
        shapes[j] = { ...shapes[j], shape: 'other' };
    } else if (shape === 'begin' && !done[i]) {
      wipe(i);
      let j = i + 1;
      for (; j < lines.length; j++) {
        const s = shapes[j].shape;
        if (keyish(s)) wipe(j);
        else if (s === 'blank' && j + 1 < lines.length && keyish(shapes[j + 1].shape)) continue;
        else break;
      }
      if (j < lines.length && shapes[j].shape === 'end') wipe(j);
    } else if (shape === 'end' && !done[i]) {
      wipe(i);
      for (let j = i - 1; j >= 0 && !done[j]; j--) {
        const s = shapes[j].shape;
        if (keyish(s)) wipe(j);
        else if (!(s === 'blank' && j > 0 && keyish(shapes[j - 1].shape))) break;
      }
    }
  }
  for (let i = 0; i < lines.length;) {
    if (shapes[i].shape !== 'body' || done[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && shapes[j].shape === 'body' && !done[j]) j++;
    const run = lines.slice(i, j).map((l, k) => l.slice(shapes[i + k].from, shapes[i + k].to));
    if (j - i >= 3 && looksRandomBase64(run)) {
      for (let k = i; k < j; k++) wipe(k);
      // The last line of a body is shorter; a PGP body ends in a `=XXXX` checksum line.
      const next = shapes[j];
      if (next && !done[j] && (next.shape === 'base64' || next.shape === 'armor')) {
        const s = lines[j].slice(next.from, next.to);
        if (next.shape === 'armor' || s.endsWith('=') || s.length >= 16) wipe(j);
      }
    }
    i = j;
  }
  if (!done.some(Boolean)) return text;
  for (let i = 0; i < out.length; i++) parts[2 * i] = out[i];
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------------------------
// Assignments to secret-named names (module doc, 5).

/** Words that make a name component secret wherever they end it: `authtoken`, `client_secret`, `DB_PASSWORD`. */
const SECRET_WORD_END = /(?:token|secret|password|passwd|passphrase)$/;
/** Compound components ending in `key` that are secrets (`apikey`, `AccountKey`); `monkey`, `hotkey` are not. */
const SECRET_KEY_WORD =
  /^(?:api|access|secret|private|signing|sign|deploy|master|encryption|encrypt|license|licence|account|client|auth|app|service|shared|session|ssh|storage|subscription|webhook|hmac|jwt|admin|consumer|sas|root|cookie)key$/;
/** Components before `key` that make it no secret: `cache_key`, `PUBLIC_KEY`, `sort-key`, `host_key`. */
const KEY_NOT_SECRET = new Set([
  'cache',
  'sort',
  'primary',
  'foreign',
  'partition',
  'lookup',
  'public',
  'pub',
  'host',
  'restore',
  'dedup',
  'group',
  'idempotency',
  'routing',
  'index',
  'row',
  'object',
  'map',
  'hash',
  'composite',
  'unique',
  'hot',
  'short',
  'target',
  'known',
  'trusted',
  'hmr',
  'react',
  'cursor',
  'range',
  'shard',
  'bucket',
  'dict',
  'field',
  'column',
  'table',
  'sorting',
  'search',
  'query',
  'translation',
  'i18n',
]);
/** Secret words that only count with a value that looks like a secret (they also name paths, modes and helpers). */
const WEAK_WORDS = new Set(['credential', 'credentials', 'creds', 'auth', 'pat']);
/** A last component that makes a name no secret even after a secret word: `token_type`, `api_key_env`, `session_token_ttl`. */
const NOT_SECRET_SUFFIX = new Set([
  'id',
  'ids',
  'name',
  'names',
  'file',
  'files',
  'path',
  'paths',
  'dir',
  'url',
  'uri',
  'ttl',
  'count',
  'counts',
  'size',
  'length',
  'len',
  'type',
  'types',
  'kind',
  'version',
  'prefix',
  'suffix',
  'env',
  'var',
  'variable',
  'header',
  'limit',
  'limits',
  'max',
  'min',
  'expiry',
  'expires',
  'expiration',
  'expire',
  'expired',
  'timeout',
  'format',
  'field',
  'fields',
  'mode',
  'enabled',
  'required',
  'set',
  'present',
  'used',
  'interval',
  'endpoint',
  'host',
  'port',
  'usage',
  'cost',
  'rate',
  'budget',
  'source',
  'provider',
  'location',
  'helper',
  'hint',
  'label',
  'description',
  'regex',
  'pattern',
  'rotation',
  'scope',
  'scopes',
  'algorithm',
  'alg',
  'fingerprint',
  'schema',
  'bits',
  'index',
  'in',
  'at',
  'age',
  'lifetime',
  'policy',
  'strength',
  'hash',
  'digest',
  'sha',
  'last4',
  'ref',
  'reference',
]);

/** How a name is treated: `strong` redacts any value of 6+ characters (quoted: any), `weak` only secret-looking values. */
export type SecretNameClass = 'strong' | 'weak' | null;

/**
 * Classifies an assignment's name (module doc, 5). The name is split into components at `_`, `-`, `.` and
 * camel-case humps; a component is a secret word when it ends in token/secret/password/passwd/passphrase
 * (singular: `prompt_tokens`, `secrets` are not), is `key` after a qualifier that is not in KEY_NOT_SECRET
 * (`deploy_key`, `AccountKey`; bare `key`, `cache_key` are not), is a compound like `apikey`, or is one of the
 * weak words (`credentials`, `auth`, `pat` after a qualifier). The last secret word decides: last component →
 * `strong` (`weak` for a weak word); followed by more components → null when the last is a NOT_SECRET_SUFFIX
 * (`token_type`, `api_key_env`, `private_key_id`, `--target-key-id`), else `weak` (`SECRET_KEY_BASE`).
 */
export function classifySecretName(name: string): SecretNameClass {
  const comps = name
    .replace(/^[-$]+/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_.-]+/)
    .filter(Boolean);
  let at = -1;
  let weak = false;
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i];
    const prev = i > 0 ? comps[i - 1] : undefined;
    if (
      SECRET_WORD_END.test(c) ||
      SECRET_KEY_WORD.test(c) ||
      (c === 'key' && prev !== undefined && !KEY_NOT_SECRET.has(prev))
    ) {
      at = i;
      weak = false;
    } else if (WEAK_WORDS.has(c) && (c !== 'pat' || prev !== undefined)) {
      at = i;
      weak = true;
    }
  }
  if (at < 0) return null;
  if (at === comps.length - 1) return weak ? 'weak' : 'strong';
  return NOT_SECRET_SUFFIX.has(comps[comps.length - 1]) ? null : 'weak';
}

/** Unquoted values that are no secret even under a secret name (booleans, placeholders, type names in code). */
const NOT_SECRET_VALUE =
  /^(?:true|false|null|none|nil|undefined|required|optional|String|&?str|&?\[u8\]|Vec<u8>|Self|\*+|x{3,}|X{3,})$/;

/** A value that looks like a secret: 8+ characters, no spaces, letters and digits, not a path or a number with a unit. */
function looksSecret(v: string): boolean {
  return (
    v.length >= 8 &&
    !/\s/.test(v) &&
    /[0-9]/.test(v) &&
    /[A-Za-z]/.test(v) &&
    !/^(?:[.~]?\/|[A-Za-z]:\\|https?:)/.test(v) &&
    !/^[0-9]+(?:\.[0-9]+)*[a-zA-Z]{0,3}$/.test(v)
  );
}

/** A character table: `table[c]` for char codes below 128. */
function charTable(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (const c of chars) t[c.charCodeAt(0)] = 1;
  return t;
}
const NAME_CHARS = charTable('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-$');
/** What ends an unquoted value (as V). */
const VALUE_END = charTable(' \t\r\n\f\v"\',;(){}[]\\');
const isNameChar = (c: number) => c < 128 && NAME_CHARS[c] === 1;
const endsValue = (c: number) => (c < 128 ? VALUE_END[c] === 1 : /\s/.test(String.fromCharCode(c)));
/** Longest name looked at (a longer run is no name). */
const MAX_NAME = 256;
/** Most characters of a quoted value looked at (a longer "value" is not one value). */
const MAX_QUOTED = 4096;
/**
 * Unquoted values up to this length may be judged not secret (NOT_SECRET_VALUE, looksSecret); a longer one is
 * redacted. So a rejected value costs at most this much scanning, which keeps the scan linear.
 */
const MAX_JUDGED = 256;

/** Whether `s` has a `"` not escaped by a backslash. */
function hasBareQuote(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return true;
  }
  return false;
}

/**
 * Where an assignment to a secret-named name may be: a secret word (any case), up to 64 more name characters, maybe
 * a closing quote, blanks, the operator (group 1). Only these places are looked at, not every `:` of a log.
 */
const CANDIDATE = /(?:token|secret|pass|key|cred|auth|pat)[A-Za-z0-9_.$-]{0,64}(?:\\?["'])?[ \t]*(:=|=>|[:=])/;

const nameClasses = new Map<string, SecretNameClass>();
/** classifySecretName, remembered (names repeat across a log; at most 4096 are kept). */
function cachedClass(name: string): SecretNameClass {
  let c = nameClasses.get(name);
  if (c === undefined) {
    c = classifySecretName(name);
    if (nameClasses.size >= 4096) nameClasses.clear();
    nameClasses.set(name, c);
  }
  return c;
}

/**
 * Redacts the values of assignments to secret-named names (module doc, 5): `name=value`, `name: value`,
 * `name := value`, `name => value`, `"name": "value"` (also with JSON-escaped quotes), `?name=value`. A quoted value
 * is taken whole (up to its closing quote, at most MAX_QUOTED characters on), an unquoted one up to a space, quote,
 * comma, semicolon, bracket or backslash. `strong` names (classifySecretName) lose any quoted value and any unquoted
 * one of 6+ characters but NOT_SECRET_VALUE; `weak` names only values that look like secrets (looksSecret).
 * Linear: only CANDIDATE places are looked at (the pattern backtracks at most 64 characters), each looks back over
 * at most MAX_NAME name characters, a redacted value is skipped, and a value is only judged (and kept) after a scan
 * of at most MAX_JUDGED or MAX_QUOTED characters.
 */
function redactAssignments(text: string): string {
  const candidate = new RegExp(CANDIDATE.source, 'gi');
  let out = '';
  let last = 0;
  const n = text.length;
  for (let m = candidate.exec(text); m; m = candidate.exec(text)) {
    const op = m[1];
    const at = m.index + m[0].length - op.length;
    // `::` (Rust and C++ paths) is no assignment.
    if (op === ':' && (text.charCodeAt(at + 1) === 58 || text.charCodeAt(at - 1) === 58)) continue;
    // The name: back over blanks, a closing quote (maybe escaped), then name characters.
    let j = at;
    while (j > last && (text[j - 1] === ' ' || text[j - 1] === '\t')) j--;
    if (j > last && (text[j - 1] === '"' || text[j - 1] === "'")) {
      j--;
      if (j > last && text[j - 1] === '\\') j--;
    }
    const nameEnd = j;
    while (j > last && nameEnd - j <= MAX_NAME && isNameChar(text.charCodeAt(j - 1))) j--;
    // After a JSON escape (`"…\ntoken: x"`), the name starts after its `n`.
    if (j > 0 && text[j - 1] === '\\' && 'nrt'.includes(text[j])) j++;
    if (j >= nameEnd || nameEnd - j > MAX_NAME) continue;
    const cls = cachedClass(text.slice(j, nameEnd));
    if (!cls) continue;

    // The value.
    let k = at + op.length;
    while (k < n && (text[k] === ' ' || text[k] === '\t')) k++;
    let quote = '';
    if (text[k] === '"' || text[k] === "'") quote = text[k];
    else if (text[k] === '\\' && (text[k + 1] === '"' || text[k + 1] === "'")) quote = text.slice(k, k + 2);
    let vStart = -1;
    let vEnd = -1;
    let quoted = false;
    if (quote) {
      const from = k + quote.length;
      const limit = Math.min(n, from + MAX_QUOTED);
      for (let i = from; i < limit; i++) {
        const c = text[i];
        if (c === '\n') break;
        if (quote.length === 2 && c === '\\' && text[i + 1] === quote[1]) {
          if (i > from) [vStart, vEnd, quoted] = [from, i, true];
          break;
        }
        if (c === '\\') i++;
        else if (c === quote) {
          if (i > from) [vStart, vEnd, quoted] = [from, i, true];
          break;
        } else if (c === '"' && quote.length === 2) break;
      }
      // No closing quote: the value is unquoted, after the quote.
      if (!quoted) k = from;
    }
    if (!quoted) {
      let e = k;
      while (e < n && e - k <= MAX_JUDGED && !endsValue(text.charCodeAt(e))) e++;
      const long = e - k > MAX_JUDGED;
      if (long) while (e < n && !endsValue(text.charCodeAt(e))) e++;
      [vStart, vEnd] = [k, e];
      const value = text.slice(k, e);
      if (!value || value.startsWith('[REDACTED')) continue;
      if (!long && (cls === 'strong' ? value.length < 6 || NOT_SECRET_VALUE.test(value) : !looksSecret(value)))
        continue;
    } else {
      const value = text.slice(vStart, vEnd);
      // Inside JSON text a quote right after the operator may close the enclosing string (`{"a":"token=","b":1}`):
      // a "value" with an unescaped `"` in it, or starting with `,` `:` `}` `]`, is JSON, not a value.
      if (hasBareQuote(value) || /^\s*[,:}\]]/.test(value)) continue;
      if (value.startsWith('[REDACTED') || (cls === 'weak' && !looksSecret(value))) continue;
    }
    out += text.slice(last, vStart) + marker('credential-assignment');
    last = vEnd;
    candidate.lastIndex = vEnd;
  }
  return last === 0 ? text : out + text.slice(last);
}

// ---------------------------------------------------------------------------------------------------------------

const FAMILY_AND_PLACE = ORDERED([...FAMILY_RULES, ...PLACE_RULES]);
const URL = ORDERED([URL_RULE])[0];

/** Values of secret-named variables in `env` (8+ characters), longest first. */
export function secretValues(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([k, v]) => v && v.length >= 8 && SECRET_NAME.test(k) && !NOT_SECRET.test(k))
    .map(([, v]) => v as string)
    .sort((a, b) => b.length - a.length);
}

/**
 * Redacts secrets from `text` (module doc): in time linear in its length, idempotent.
 * @param env environment whose secret-named values are removed (default process.env).
 * @returns the text with each secret replaced by `[REDACTED:<kind>]`; text without secrets is returned unchanged.
 */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const v of secretValues(env)) out = out.split(v).join(marker('env'));
  out = redactKeyBlocks(out);
  out = redactKeyBodies(out);
  for (const rule of FAMILY_AND_PLACE) out = applyRule(out, rule);
  out = redactAssignments(out);
  return applyRule(out, URL);
}

/** Object keys whose string values are secrets whatever they look like. */
const SECRET_KEY =
  /(^|[_-])(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|authorization)$/i;

/**
 * Redacts every string inside a JSON-like value (objects and arrays are
 * copied, other values kept); a string under a secret-named key (`password`,
 * `api_key`, `client_secret`, `session_token`, ...) is replaced whole.
 */
export function redactDeep<T>(value: T, env: NodeJS.ProcessEnv = process.env): T {
  if (typeof value === 'string') return redactSecrets(value, env) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, env)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        typeof v === 'string' && v && SECRET_KEY.test(k) ? '[REDACTED:secret-field]' : redactDeep(v, env),
      ]),
    ) as T;
  }
  return value;
}
