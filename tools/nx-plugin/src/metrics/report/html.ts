/**
 * Escape-by-default HTML: the `markup` tagged template escapes every
 * interpolated value unless it is an Html value, and Html values come only
 * from the `markup` template itself (and joinHtml, which escapes the same way):
 * there is no function that turns an arbitrary string into Html, so no
 * interpolation can forget its escaping. Markup is only ever written as the
 * literal text of a template.
 *
 * Escaping: `&`, `<`, `>`, `"` and `'` become character references, which is
 * enough for element content and for quoted attribute values, in HTML and in
 * inline SVG (HTML Living Standard, 13.1.4 "Character references",
 * https://html.spec.whatwg.org/multipage/syntax.html#character-references).
 * It is not enough for unquoted attribute values, inside <script> or <style>
 * (raw text elements), or in URLs: every attribute in the report's templates
 * is quoted, the report has no script and no URL, and its <style> is a
 * template without interpolations.
 */

/** Known only to this module: Html values cannot be made elsewhere. */
const MINT = Symbol('Html');

/** A piece of HTML made by the `markup` template: inserted into other templates as is. */
export class Html {
  readonly #text: string;
  /** @throws TypeError outside this module (Html values come from `markup` and joinHtml only). */
  constructor(mint: typeof MINT, text: string) {
    if (mint !== MINT) throw new TypeError('Html values come only from the html template');
    this.#text = text;
  }
  /** The markup. */
  toString(): string {
    return this.#text;
  }
}

/**
 * What can be interpolated: Html as is; strings and numbers escaped; null,
 * undefined and false as nothing (for `${cond && markup`…`}`); arrays as their
 * items in order, each by these rules.
 */
export type Interpolation = Html | string | number | null | undefined | false | readonly Interpolation[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values (also inside SVG). */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** One interpolated value as markup. */
function render(v: Interpolation): string {
  if (v instanceof Html) return v.toString();
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(v);
}

/**
 * The tagged template: `html\`<td>${name}</td>\`` escapes `name` unless it is
 * Html.
 * @returns the markup as Html.
 */
export function markup(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(MINT, out);
}

/** The items (escaped unless Html) with `separator` between them. */
export function joinHtml(items: readonly Interpolation[], separator: Html): Html {
  return new Html(MINT, items.map(render).join(separator.toString()));
}

/** Html pieces one after another (a template too long for one source line, written as several). */
export function concatHtml(...parts: Html[]): Html {
  return joinHtml(parts, markup``);
}
