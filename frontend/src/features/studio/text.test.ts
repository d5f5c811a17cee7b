import { describe, expect, it } from 'vitest';
import { contentOf, rangeOf, sectionContent, sectionText, segments, textOf } from './text';

describe('section text', () => {
  it('reads the text of saved content and of a content tree', () => {
    expect(textOf(contentOf('hello'))).toBe('hello');
    expect(textOf({ type: 'doc', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'a' }] }, { text: 'b' }] })).toBe('a\nb');
    expect(textOf({ type: 'doc', content: [] })).toBe('');
    expect(textOf(null)).toBe('');
  });

  it('edits a code section\'s source and keeps its language', () => {
    expect(sectionText('CODE', { language: 'rust', source: 'fn x() {}' })).toBe('fn x() {}');
    expect(sectionContent('CODE', 'y', { language: 'rust', source: 'x' })).toEqual({ language: 'rust', source: 'y' });
    expect(sectionText('IMAGE', { resourceVersionId: null })).toBeNull();
  });

  it('puts carets at their heads and colours selections', () => {
    const segs = segments('hello world', [
      { id: 'p1', name: 'Ann', colour: '#f00', anchor: 0, head: 5 },
      { id: 'p2', name: 'Bob', colour: '#00f', anchor: 99, head: 99 },
    ]);
    expect(segs).toEqual([
      { kind: 'selected', text: 'hello', colour: '#f00' },
      { kind: 'caret', id: 'p1', name: 'Ann', colour: '#f00', head: 5 },
      { kind: 'text', text: ' world' },
      { kind: 'caret', id: 'p2', name: 'Bob', colour: '#00f', head: 11 },
    ]);
  });

  it('reads a backward selection with the caret at its start', () => {
    expect(rangeOf({ selectionStart: 2, selectionEnd: 7, selectionDirection: 'backward' })).toEqual({ anchor: 7, head: 2 });
    expect(rangeOf({ selectionStart: 2, selectionEnd: 7, selectionDirection: 'forward' })).toEqual({ anchor: 2, head: 7 });
  });
});
