import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ExportProgress, refusedLines } from './RecordsIo';

describe('refusedLines', () => {
  it('lists each rejected row with its line and column', () => {
    const lines = refusedLines(
      'nothing imported; line 3: likes: `many` is not a whole number of at least 0; line 6: platform: `myspace` is not a platform of the catalog (instagram, tiktok)',
    );
    expect(lines).toEqual([
      { line: 3, column: 'likes', message: '`many` is not a whole number of at least 0' },
      { line: 6, column: 'platform', message: '`myspace` is not a platform of the catalog (instagram, tiktok)' },
    ]);
  });

  it('keeps a refusal of the whole file as one entry', () => {
    expect(refusedLines('line 1: unknown column `colour`')).toEqual([{ line: 1, column: null, message: 'unknown column `colour`' }]);
    expect(refusedLines('Give either `csv` or `file`')).toEqual([{ line: 0, message: 'Give either `csv` or `file`' }]);
  });
});

describe('ExportProgress', () => {
  const base = { fileName: 'records.csv', writtenRows: 40, totalRows: 100, progress: 0.4 };

  it('shows the progress while running and the download once written', () => {
    const { rerender } = render(<ExportProgress export={{ ...base, state: 'RUNNING' }} />);
    expect(screen.getByRole('progressbar', { name: 'Export progress' })).toHaveAttribute('value', '0.4');
    expect(screen.getByText('40 of 100 records')).toBeInTheDocument();
    rerender(
      <ExportProgress
        export={{ ...base, state: 'SUCCEEDED', progress: 1, sizeBytes: 2048, downloadUrl: 'https://zygo.test/collection/exports/t/e?sig=x' }}
      />,
    );
    const link = screen.getByRole('link', { name: /Download records.csv/ });
    expect(link).toHaveAttribute('href', 'https://zygo.test/collection/exports/t/e?sig=x');
    expect(screen.queryByRole('progressbar')).toBeNull();
  });

  it('says why an export failed', () => {
    render(<ExportProgress export={{ ...base, state: 'FAILED', error: 'too many rows' }} />);
    expect(screen.getByText(/too many rows/)).toBeInTheDocument();
  });
});
