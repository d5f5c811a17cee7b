import { Link } from 'react-router';
import { useDocumentTitle } from '../../app/theme';

export default function NotFound() {
  useDocumentTitle('Not found');
  return (
    <section className="page">
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <Link to="/">Back to the dashboard</Link>
      </p>
    </section>
  );
}
