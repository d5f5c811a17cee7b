// A folder's records in and out: export buttons (CSV, JSON Lines, Excel) that start a
// background export of the records as filtered, follow its progress live and offer the signed
// download once written; and "Import CSV" (a file or pasted rows) with the rejected lines
// listed by line number.
import { useState, type FormEvent } from 'react';
import { useMutation, useSubscription } from 'urql';
import {
  ImportRecordsDocument,
  RecordExportUpdatedDocument,
  StartRecordExportDocument,
  type ImportRecordsMutation,
  type RecordExportFormat,
  type RecordFilterInput,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { Alert, Button, TextAreaField } from '../../ui';
import { formatBytes, uploadFile } from '../resources/upload';

const FORMATS: { format: RecordExportFormat; label: string }[] = [
  { format: 'CSV', label: 'CSV' },
  { format: 'JSON', label: 'JSON' },
  { format: 'XLSX', label: 'Excel' },
];

/** One rejected row of an import. */
export interface LineError {
  line: number;
  column?: string | null;
  message: string;
}

/**
 * The rows named in an import's refusal (`nothing imported; line 3: likes: …; line 6: …`), one
 * entry each; a refusal of the whole file (a bad header) is one entry without a line.
 */
export function refusedLines(message: string): LineError[] {
  const body = message.replace(/^nothing imported; /i, '');
  return body
    .split('; ')
    .filter((p) => p.trim())
    .map((p) => {
      const m = /^line (\d+): (?:(\w+): )?(.*)$/s.exec(p.trim());
      if (!m) return { line: 0, message: p.trim() };
      return { line: Number(m[1]), column: m[2] ?? null, message: m[3] };
    });
}

/** Export buttons of a folder, for the records `filter` shows. */
export function ExportButtons({ folderId, filter }: { folderId: string; filter: RecordFilterInput | null }) {
  const [started, start] = useMutation(StartRecordExportDocument);
  const [exportId, setExportId] = useState<string | null>(null);
  async function run(format: RecordExportFormat) {
    const r = await start({ input: { folderId, format, filter } });
    if (r.data) setExportId(r.data.startRecordExport.export.id);
  }
  return (
    <div className="row" role="group" aria-label="Export records">
      <span className="muted">Export:</span>
      {FORMATS.map(({ format, label }) => (
        <Button key={format} variant="secondary" busy={started.fetching} onClick={() => run(format)}>
          {label}
        </Button>
      ))}
      {started.error && <Alert>{errorMessage(started.error)}</Alert>}
      {exportId && <ExportStatus key={exportId} id={exportId} />}
    </div>
  );
}

/** An export's progress, live, then its download link. */
function ExportStatus({ id }: { id: string }) {
  const [res] = useSubscription({ query: RecordExportUpdatedDocument, variables: { id } });
  const e = res.data?.recordExportUpdated;
  if (res.error) return <Alert>{errorMessage(res.error)}</Alert>;
  if (!e) return <span className="muted">Starting export…</span>;
  return <ExportProgress export={e} />;
}

/** What an export shows: its progress while it runs, its link once written, why it failed. */
export function ExportProgress({
  export: e,
}: {
  export: {
    state: string;
    progress: number;
    writtenRows: number;
    totalRows: number;
    fileName: string;
    sizeBytes?: number | null;
    downloadUrl?: string | null;
    error?: string | null;
  };
}) {
  if (e.state === 'FAILED') return <Alert>Export failed: {e.error}</Alert>;
  if (e.state === 'SUCCEEDED' && e.downloadUrl)
    return (
      <a className="btn btn-primary" href={e.downloadUrl} download={e.fileName}>
        Download {e.fileName}
        {e.sizeBytes != null && ` (${formatBytes(e.sizeBytes)})`}
      </a>
    );
  return (
    <span>
      <progress value={e.progress} max={1} aria-label="Export progress" />{' '}
      <span className="muted small">
        {e.state === 'PENDING' ? 'Waiting…' : `${e.writtenRows} of ${e.totalRows} records`}
      </span>
    </span>
  );
}

type Imported = ImportRecordsMutation['importRecords'];

/** "Import CSV" into a folder: a file or pasted rows, bad rows listed by line. */
export function ImportCsv({ folderId, onImported }: { folderId: string; onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [pasted, setPasted] = useState('');
  const [skip, setSkip] = useState(false);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Imported | null>(null);
  const [refused, setRefused] = useState<LineError[] | null>(null);
  const [, importInline] = useMutation(ImportRecordsDocument);
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    setBusy(true);
    setDone(null);
    setRefused(null);
    const input = { folderId, skipInvalid: skip };
    let message: string | undefined;
    if (file) {
      const r = await uploadFile<ImportRecordsMutation>(ImportRecordsDocument, { input }, file, () => {});
      if (r.data) setDone(r.data.importRecords);
      else message = r.error.message;
    } else {
      const r = await importInline({ input: { ...input, csv: pasted } });
      if (r.data) setDone(r.data.importRecords);
      else {
        const errs = fieldErrors(r.error);
        message = errs.csv ?? errs[''] ?? errorMessage(r.error);
      }
    }
    setBusy(false);
    if (message) setRefused(refusedLines(message));
    else onImported();
  }
  const rows: LineError[] = refused ?? done?.errors ?? [];
  return (
    <details className="card">
      <summary>
        <strong>Import CSV</strong>
      </summary>
      <form onSubmit={submit} noValidate>
        <p className="muted small">
          First line: the columns (platform, serviceType, externalId or url; author, text, hashtags, mentions, postedAt,
          likes, comments, shares, views). An exported CSV imports back.
        </p>
        <label>
          CSV file <input type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        {!file && (
          <TextAreaField label="Or paste the rows" value={pasted} onChange={(e) => setPasted(e.target.value)} rows={4} />
        )}
        <label>
          <input type="checkbox" checked={skip} onChange={(e) => setSkip(e.target.checked)} /> Import the good rows and
          skip the bad ones
        </label>
        <Button type="submit" busy={busy} busyLabel="Importing…" disabled={!file && !pasted.trim()}>
          Import
        </Button>
      </form>
      {done && (
        <Alert kind="success">
          {done.imported} imported, {done.updated} updated, {done.skipped} skipped.
        </Alert>
      )}
      {refused && <Alert>Nothing was imported.</Alert>}
      {rows.length > 0 && (
        <table aria-label="Rejected rows">
          <thead>
            <tr>
              <th>Line</th>
              <th>Column</th>
              <th>Problem</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                <td>{r.line || ''}</td>
                <td>{r.column ?? ''}</td>
                <td>{r.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
