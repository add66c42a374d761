// The characters XML 1.0 forbids: refused in every text field at input, dropped at every output for rows written before.

/**
 * Characters outside XML 1.0's `Char` production (https://www.w3.org/TR/xml/#charsets): C0 controls other than tab,
 * line feed and carriage return, unpaired UTF-16 surrogates, and the noncharacters U+FFFE and U+FFFF. One of them
 * makes feed.xml not well-formed, and HTML parsers report each as an error. With the `u` flag a surrogate pair is one
 * code point, so the surrogate range matches only unpaired halves.
 */
export const xmlForbidden = /[\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/u;

const xmlForbiddenAll = new RegExp(xmlForbidden.source, 'gu');

/** True when `text` holds no character XML 1.0 forbids. */
export function isXmlText(text: string): boolean {
  return !xmlForbidden.test(text);
}

/** `text` without the characters XML 1.0 forbids; text without any comes back as the same string. */
export function dropXmlForbidden(text: string): string {
  return xmlForbidden.test(text) ? text.replace(xmlForbiddenAll, '') : text;
}

/** A JSON.stringify replacer that drops forbidden characters from every string value and key in a document. */
export function xmlSafeJson(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return dropXmlForbidden(value);
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).some((k) => xmlForbidden.test(k))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [dropXmlForbidden(k), v]));
  }
  return value;
}
