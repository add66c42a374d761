// The one HTML escaper for markup built by hand (a console heading, the feed's paragraphs, an email footer's links); templates in hono/html and Astro escape on their own.

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `text` safe inside HTML or XML element content and in a quoted attribute value: & < > " ' become entities. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => entities[ch]!);
}
