// File uploads as GraphQL multipart requests (the spec urql and Apollo use), sent with
// XMLHttpRequest so the page can show upload progress. The `apollo-require-preflight` header
// is what the server demands of a multipart request (a cross-site form cannot set it).
import { print, type DocumentNode } from 'graphql';
import { expiresSoon, loadTokens, refreshTokens } from '../../app/session';

export interface UploadError {
  message: string;
  code?: string;
  field?: string;
}

/** The answer of an upload: its data, or the first error. */
export type UploadResult<T> = { data: T; error?: undefined } | { data?: undefined; error: UploadError };

/**
 * Sends `document` with `variables`, whose `input.file` becomes `file`; `onProgress` hears the
 * fraction sent (0 to 1).
 */
export async function uploadFile<T>(
  document: DocumentNode,
  variables: { input: Record<string, unknown> },
  file: File,
  onProgress: (fraction: number) => void,
): Promise<UploadResult<T>> {
  let tokens = loadTokens();
  if (tokens && expiresSoon(tokens)) tokens = await refreshTokens();
  const operations = { query: print(document), variables: { ...variables, input: { ...variables.input, file: null } } };
  const form = new FormData();
  form.append('operations', JSON.stringify(operations));
  form.append('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.append('0', file, file.name);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/graphql');
    xhr.setRequestHeader('apollo-require-preflight', 'true');
    xhr.setRequestHeader('accept', 'application/json');
    if (tokens) xhr.setRequestHeader('authorization', `Bearer ${tokens.accessToken}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => resolve({ error: { message: 'The server cannot be reached. Check your connection and try again.' } });
    xhr.onload = () => {
      onProgress(1);
      try {
        const body = JSON.parse(xhr.responseText) as {
          data?: T;
          errors?: { message: string; extensions?: { code?: string; field?: string } }[];
        };
        const e = body.errors?.[0];
        if (e) {
          const field = e.extensions?.field;
          const message = field && e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message;
          resolve({ error: { message: message.charAt(0).toUpperCase() + message.slice(1), code: e.extensions?.code, field } });
        } else if (body.data) {
          resolve({ data: body.data });
        } else {
          resolve({ error: { message: `Upload failed (HTTP ${xhr.status}).` } });
        }
      } catch {
        resolve({ error: { message: `Upload failed (HTTP ${xhr.status}).` } });
      }
    };
    xhr.send(form);
  });
}

/** `1234567` → `1.2 MB`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
