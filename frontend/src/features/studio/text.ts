// Pure helpers of the editor: a TEXT section's content ⇄ the plain text the editor edits, and
// where remote cursors and selections fall in that text (the overlay's segments).

/** The plain text of a TEXT section's content: `text` when it has one, else the text of its
 * ProseMirror-like `content` tree, paragraphs on their own lines. */
export function textOf(content: unknown): string {
  if (content && typeof content === 'object') {
    const c = content as { text?: unknown; content?: unknown };
    if (typeof c.text === 'string') return c.text;
    if (Array.isArray(c.content)) {
      return c.content.map((n) => textOf(n)).join('\n');
    }
  }
  return '';
}

/** The content the editor saves for `text`. */
export function contentOf(text: string): { type: 'doc'; text: string } {
  return { type: 'doc', text };
}

/** The editable text of a section of `kind` (a CODE section's source), `null` for kinds edited
 * elsewhere (IMAGE, EMBED). */
export function sectionText(kind: string, content: unknown): string | null {
  if (kind === 'TEXT') return textOf(content);
  if (kind === 'CODE') {
    const source = (content as { source?: unknown } | null)?.source;
    return typeof source === 'string' ? source : '';
  }
  return null;
}

/** The content of a section of `kind` holding `text` (a CODE section keeps its language). */
export function sectionContent(kind: string, text: string, old: unknown): unknown {
  if (kind === 'CODE') {
    const language = (old as { language?: unknown } | null)?.language;
    return { language: typeof language === 'string' ? language : 'plaintext', source: text };
  }
  return contentOf(text);
}

/** A remote participant's caret (and selection) in one section. */
export interface RemoteCursor {
  id: string;
  name: string;
  colour: string;
  anchor: number;
  head: number;
}

/** One run of the overlay: plain text, selected text of a participant, or a caret. */
export type Segment =
  | { kind: 'text'; text: string }
  | { kind: 'selected'; text: string; colour: string }
  | { kind: 'caret'; id: string; name: string; colour: string; head: number };

/**
 * Splits `text` into the overlay's runs: each cursor's selection highlighted in its colour and
 * its caret (with its name) at `head`. Offsets beyond the text are clamped to its end; where
 * selections overlap, the later participant's colour wins.
 */
export function segments(text: string, cursors: RemoteCursor[]): Segment[] {
  const n = text.length;
  const clamp = (x: number) => Math.max(0, Math.min(n, x));
  const colourAt: (string | null)[] = new Array(n).fill(null);
  const caretsAt = new Map<number, RemoteCursor[]>();
  for (const c of cursors) {
    const [a, h] = [clamp(c.anchor), clamp(c.head)];
    for (let i = Math.min(a, h); i < Math.max(a, h); i++) colourAt[i] = c.colour;
    caretsAt.set(h, [...(caretsAt.get(h) ?? []), c]);
  }
  const out: Segment[] = [];
  const push = (text: string, colour: string | null) => {
    if (!text) return;
    const last = out[out.length - 1];
    if (colour == null) {
      if (last?.kind === 'text') last.text += text;
      else out.push({ kind: 'text', text });
    } else if (last?.kind === 'selected' && last.colour === colour) last.text += text;
    else out.push({ kind: 'selected', text, colour });
  };
  for (let i = 0; i <= n; i++) {
    for (const c of caretsAt.get(i) ?? []) out.push({ kind: 'caret', id: c.id, name: c.name, colour: c.colour, head: i });
    if (i < n) push(text[i], colourAt[i]);
  }
  return out;
}

/** The selection of a textarea as an anchor and a head (the head is where the caret is). */
export function rangeOf(el: { selectionStart: number; selectionEnd: number; selectionDirection?: string | null }) {
  return el.selectionDirection === 'backward'
    ? { anchor: el.selectionEnd, head: el.selectionStart }
    : { anchor: el.selectionStart, head: el.selectionEnd };
}
