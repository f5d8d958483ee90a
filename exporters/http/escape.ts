/**
 * Escaping for everything the collector sends that carries strings from the table: HTML
 * text and attribute values, and JSON embedded in server-sent events. Table strings are
 * written by any process that can open the table, so they are untrusted input here.
 * (Prometheus label values are escaped by prom-client's Registry; the exporter test
 * checks it.)
 */

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes `value` for HTML text and for attribute values in double or single quotes.
 * Never use the result in an unquoted attribute, a URL attribute without checking the
 * scheme, or inside <script> or <style>.
 */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

const JSON_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * JSON.stringify whose output is also safe inside HTML and an SSE `data:` line: `<`, `>`
 * and `&` become \u escapes (so `</script>` or `<!--` can never end a container), as do
 * U+2028/U+2029 (line terminators in older JavaScript). JSON.stringify already escapes
 * CR and LF, which would otherwise end an SSE field. Parsing the result gives back the
 * same value.
 */
export function safeJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(
    /[<>&\u2028\u2029]/g,
    (c) => JSON_ESCAPES[c] as string,
  );
}

/** One server-sent event: `event` (a fixed name of ours) and `data` as safe JSON. */
export function sseEvent(event: string, data: unknown): string {
  if (!/^[a-z][a-z0-9-]*$/.test(event)) throw new RangeError(`invalid SSE event name ${event}`);
  return `event: ${event}\ndata: ${safeJson(data)}\n\n`;
}
