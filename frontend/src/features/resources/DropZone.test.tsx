import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/react';
import { DropZone } from './DropZone';
import { formatBytes } from './upload';

describe('DropZone', () => {
  it('hands a dropped file over and shows the upload progress', () => {
    const onFile = vi.fn();
    const { rerender } = render(<DropZone label="Upload a file" busy={false} progress={null} onFile={onFile} />);
    const zone = screen.getByRole('button', { name: 'Upload a file' });
    const file = new File(['hello'], 'hello.txt', { type: 'text/plain' });
    fireEvent.drop(zone, { dataTransfer: { files: [file] } });
    expect(onFile).toHaveBeenCalledWith(file);
    expect(screen.queryByRole('progressbar')).toBeNull();
    rerender(<DropZone label="Upload a file" busy progress={0.4} onFile={onFile} />);
    expect(screen.getByRole('progressbar', { name: 'Upload progress' })).toHaveAttribute('value', '0.4');
  });

  it('ignores a drop while an upload is under way', () => {
    const onFile = vi.fn();
    render(<DropZone label="Upload a file" busy progress={0.1} onFile={onFile} />);
    fireEvent.drop(screen.getByRole('button', { name: 'Upload a file' }), {
      dataTransfer: { files: [new File(['x'], 'x.txt')] },
    });
    expect(onFile).not.toHaveBeenCalled();
  });
});

describe('formatBytes', () => {
  it('uses decimal units with one decimal below ten', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1234)).toBe('1.2 kB');
    expect(formatBytes(52_000_000)).toBe('52 MB');
  });
});
