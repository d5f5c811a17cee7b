// A folder's records: filters (words with suggestions from the caller's history, platform,
// author, hashtag, likes, posting dates), sort, highlighted matches, the project's saved
// searches (save the current one, apply, delete), export buttons and CSV import (RecordsIo).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  CreateSavedSearchDocument,
  DeleteSavedSearchDocument,
  FolderRecordsDocument,
  SavedSearchesDocument,
  type RecordFilterInput,
  type RecordSortField,
  type RecordSortInput,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useDebounced } from '../../ui';
import { Alert, Button, Field, formatDate, SelectField } from '../../ui';
import { ExportButtons, ImportCsv } from './RecordsIo';

const SORTS: [RecordSortField, string][] = [
  ['COLLECTED', 'Collection order'],
  ['POSTED_AT', 'Posted'],
  ['LIKES', 'Likes'],
  ['COMMENTS', 'Comments'],
  ['VIEWS', 'Views'],
  ['RELEVANCE', 'Best match'],
];

type Form = { search: string; platform: string; author: string; hashtag: string; minLikes: string; postedFrom: string; postedTo: string };
const EMPTY: Form = { search: '', platform: '', author: '', hashtag: '', minLikes: '', postedFrom: '', postedTo: '' };

/** The API's filter from the form (empty fields left out; dates as whole days). */
export function toFilter(f: Form): RecordFilterInput | null {
  const out: RecordFilterInput = {};
  if (f.search.trim()) out.search = f.search.trim();
  if (f.platform.trim()) out.platform = f.platform.trim().toLowerCase();
  if (f.author.trim()) out.author = f.author.trim();
  if (f.hashtag.trim()) out.hashtag = f.hashtag.trim().replace(/^#/, '');
  if (f.minLikes.trim()) out.minLikes = Number(f.minLikes);
  if (f.postedFrom) out.postedFrom = new Date(`${f.postedFrom}T00:00:00Z`).toISOString();
  if (f.postedTo) out.postedTo = new Date(`${f.postedTo}T23:59:59Z`).toISOString();
  return Object.keys(out).length ? out : null;
}

/** The form showing a saved filter. */
function toForm(f: RecordFilterInput | null | undefined): Form {
  return {
    search: f?.search ?? '',
    platform: f?.platform ?? '',
    author: f?.author ?? '',
    hashtag: f?.hashtag ?? '',
    minLikes: f?.minLikes != null ? String(f.minLikes) : '',
    postedFrom: f?.postedFrom ? f.postedFrom.slice(0, 10) : '',
    postedTo: f?.postedTo ? f.postedTo.slice(0, 10) : '',
  };
}

export function Records({ projectId, folderId, canEdit }: { projectId: string; folderId: string; canEdit: boolean }) {
  const [form, setForm] = useState<Form>(EMPTY);
  const [sortField, setSortField] = useState<RecordSortField>('COLLECTED');
  const [descending, setDescending] = useState(false);
  const [applied, setApplied] = useState<{ filter: RecordFilterInput | null; sort: RecordSortInput | null }>({ filter: null, sort: null });
  const [res, reexecute] = useQuery({
    query: FolderRecordsDocument,
    variables: { id: folderId, first: 50, filter: applied.filter, sort: applied.sort },
    requestPolicy: 'cache-and-network',
  });
  const prefix = useDebounced(form.search, 250);
  const [saved, reloadSaved] = useQuery({ query: SavedSearchesDocument, variables: { projectId, prefix: prefix || null } });
  const suggestions = saved.data?.project.searchSuggestions ?? [];
  const folder = res.data?.collectionFolder;
  const set = (k: keyof Form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  function apply(ev?: FormEvent) {
    ev?.preventDefault();
    const sort = sortField === 'COLLECTED' && !descending ? null : { field: sortField, direction: descending ? ('DESC' as const) : ('ASC' as const) };
    setApplied({ filter: toFilter(form), sort });
  }
  return (
    <section aria-label="Records">
      <form className="filters" onSubmit={apply} aria-label="Record filters">
        <Field label="Search records" value={form.search} onChange={set('search')} list="search-suggestions" />
        <datalist id="search-suggestions">
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        <Field label="Platform" value={form.platform} onChange={set('platform')} />
        <Field label="Author" value={form.author} onChange={set('author')} />
        <Field label="Hashtag" value={form.hashtag} onChange={set('hashtag')} />
        <Field label="At least likes" type="number" min={0} value={form.minLikes} onChange={set('minLikes')} />
        <Field label="Posted from" type="date" value={form.postedFrom} onChange={set('postedFrom')} />
        <Field label="Posted to" type="date" value={form.postedTo} onChange={set('postedTo')} />
        <SelectField label="Sort by" value={sortField} onChange={(e) => setSortField(e.target.value as RecordSortField)}>
          {SORTS.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </SelectField>
        <label>
          <input type="checkbox" checked={descending} onChange={(e) => setDescending(e.target.checked)} /> Highest first
        </label>
        <Button type="submit" variant="secondary">
          Search
        </Button>
      </form>
      <SavedSearches
        projectId={projectId}
        folderId={folderId}
        current={applied}
        list={saved.data?.project.savedSearches ?? []}
        onChanged={() => reloadSaved({ requestPolicy: 'network-only' })}
        onApply={(filter, sort) => {
          setForm(toForm(filter));
          setSortField(sort?.field ?? 'COLLECTED');
          setDescending(sort?.direction === 'DESC');
          setApplied({ filter, sort });
        }}
      />
      <ExportButtons folderId={folderId} filter={applied.filter} />
      {canEdit && <ImportCsv folderId={folderId} onImported={() => reexecute({ requestPolicy: 'network-only' })} />}
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {folder && (
        <>
          <p className="muted">
            {folder.records.totalCount} of {folder.recordCount} records in {folder.name}
          </p>
          <table aria-label="Collected records">
            <thead>
              <tr>
                <th>Author</th>
                <th>Text</th>
                <th>Posted</th>
                <th>Likes</th>
                <th>Comments</th>
                <th>Views</th>
              </tr>
            </thead>
            <tbody>
              {folder.records.edges.map(({ node: r, snippet }) => (
                <tr key={r.id}>
                  <td>{r.author}</td>
                  <td>
                    <a href={r.url} target="_blank" rel="noreferrer">
                      {snippet ? snippet.map((p, i) => (p.highlighted ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>)) : r.text}
                    </a>
                  </td>
                  <td>{formatDate(r.postedAt, false)}</td>
                  <td>{r.likes}</td>
                  <td>{r.comments}</td>
                  <td>{r.views}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

type Saved = { id: string; name: string; folderId?: string | null; filter?: RecordFilterInput | null; sort?: RecordSortInput | null };

function SavedSearches({
  projectId,
  folderId,
  current,
  list,
  onChanged,
  onApply,
}: {
  projectId: string;
  folderId: string;
  current: { filter: RecordFilterInput | null; sort: RecordSortInput | null };
  list: Saved[];
  onChanged: () => void;
  onApply: (filter: RecordFilterInput | null, sort: RecordSortInput | null) => void;
}) {
  const [name, setName] = useState('');
  const [createRes, create] = useMutation(CreateSavedSearchDocument);
  const [, remove] = useMutation(DeleteSavedSearchDocument);
  const errs = fieldErrors(createRes.error);
  async function save(ev: FormEvent) {
    ev.preventDefault();
    const r = await create({ input: { projectId, folderId, name, filter: current.filter, sort: current.sort } });
    if (r.data) {
      setName('');
      onChanged();
    }
  }
  const here = list.filter((s) => !s.folderId || s.folderId === folderId);
  return (
    <div className="card" aria-label="Saved searches">
      <strong>Saved searches</strong>
      {here.length === 0 && <p className="muted small">None yet: search, then save it here.</p>}
      <ul>
        {here.map((s) => (
          <li key={s.id}>
            <Button variant="ghost" onClick={() => onApply(strip(s.filter), s.sort ? { field: s.sort.field, direction: s.sort.direction } : null)}>
              {s.name}
            </Button>
            <Button
              variant="ghost"
              aria-label={`Delete saved search ${s.name}`}
              onClick={async () => {
                await remove({ id: s.id });
                onChanged();
              }}
            >
              ×
            </Button>
          </li>
        ))}
      </ul>
      <form className="row" onSubmit={save} noValidate>
        <Field label="Save this search as" value={name} onChange={(e) => setName(e.target.value)} error={errs.name} />
        <Button type="submit" variant="secondary" busy={createRes.fetching} busyLabel="Saving…">
          Save search
        </Button>
      </form>
    </div>
  );
}

/** A saved filter as an input (the query's `__typename` and nulls left out). */
function strip(f: RecordFilterInput | null | undefined): RecordFilterInput | null {
  if (!f) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) if (v != null && k !== '__typename') out[k] = v;
  return Object.keys(out).length ? (out as RecordFilterInput) : null;
}
