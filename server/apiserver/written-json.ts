// One serialization per write: the JSON stored for an object doubles as its response body, with
// resourceVersion (never stored) spliced in as metadata's last field — exactly the text
// JSON.stringify gives once the registry has set the write's revision.
interface Written { text: string; metadataEnd: number; metadataEmpty: boolean }

const written = new WeakMap<object, Written>();

/** JSON of `obj` without metadata.resourceVersion (the stored form), remembered for responseJson(). */
export function encodeStored(obj: any): Buffer {
  const md = obj.metadata;
  const rv = md.resourceVersion;
  delete md.resourceVersion;
  // JSON.stringify's own top level, written out so metadata's closing brace is known.
  let text = '{';
  let metadataEnd = -1;
  let metadataEmpty = false;
  for (const k of Object.keys(obj)) {
    const v = JSON.stringify(obj[k]) as string | undefined;
    if (v === undefined) continue;
    if (text.length > 1) text += ',';
    text += `${JSON.stringify(k)}:${v}`;
    if (k === 'metadata' && v.charCodeAt(0) === 123) { metadataEnd = text.length - 1; metadataEmpty = v === '{}'; }
  }
  text += '}';
  if (rv !== undefined) md.resourceVersion = rv;
  if (metadataEnd > 0) written.set(obj, { text, metadataEnd, metadataEmpty });
  else written.delete(obj);
  return Buffer.from(text);
}

/**
 * The response body of an object the registry just wrote (JSON.stringify(obj) without a second
 * serialization), or undefined when it has none or metadata changed shape since. Used once.
 */
export function responseJson(obj: unknown): string | undefined {
  if (obj === null || typeof obj !== 'object') return undefined;
  const w = written.get(obj);
  if (!w) return undefined;
  written.delete(obj);
  const md = (obj as { metadata?: Record<string, unknown> }).metadata;
  const rv = md?.resourceVersion;
  if (typeof rv !== 'string') return undefined;
  const keys = Object.keys(md!);
  if (keys[keys.length - 1] !== 'resourceVersion') return undefined;
  return `${w.text.slice(0, w.metadataEnd)}${w.metadataEmpty ? '' : ','}"resourceVersion":${JSON.stringify(rv)}${w.text.slice(w.metadataEnd)}`;
}
