import { isRouteErrorResponse, Link, useRouteError } from 'react-router';

/** Shown while the first route's code loads. */
export function RouteLoading() {
  return (
    <p className="loading boot" role="status">
      <span className="spinner" aria-hidden="true" /> Loading…
    </p>
  );
}

/** Shown when a page fails to load or render. */
export function RouteError() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : 'Unknown error';
  const stale = /dynamically imported module|Failed to fetch/i.test(message);
  return (
    <section className="page" role="alert">
      <h1>Something went wrong</h1>
      <p>{stale ? 'A new version of Zygo is available.' : message}</p>
      <p>
        <button type="button" className="btn btn-primary" onClick={() => location.reload()}>
          Reload the page
        </button>{' '}
        <Link to="/">Go to the dashboard</Link>
      </p>
    </section>
  );
}
