// A stored file version shown in a page (the studio's IMAGE and EMBED sections name one by
// `resourceVersionId`): an image through its signed `downloadUrl`, anything else as a link.
import { useQuery } from 'urql';
import { ResourceVersionDocument } from '../../gql/graphql';
import { formatBytes } from './upload';

export function ResourceImage({ versionId, alt }: { versionId: string; alt: string }) {
  const [res] = useQuery({ query: ResourceVersionDocument, variables: { id: versionId } });
  const v = res.data?.resourceVersion;
  if (res.error) return <span className="muted">This file is not available.</span>;
  if (!v) return <span className="muted">Loading…</span>;
  if (v.mimeType.startsWith('image/')) return <img className="resource-preview" src={v.downloadUrl} alt={alt || v.filename} />;
  return (
    <a href={v.downloadUrl}>
      {v.filename} ({formatBytes(v.sizeBytes)})
    </a>
  );
}
