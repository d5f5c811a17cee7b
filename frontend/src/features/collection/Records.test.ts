import { describe, expect, it } from 'vitest';
import { toParameters } from './Jobs';
import { toFilter } from './Records';

const empty = {
  search: '',
  platform: '',
  serviceType: '',
  author: '',
  hashtag: '',
  url: '',
  minLikes: '',
  maxLikes: '',
  minComments: '',
  minViews: '',
  postedFrom: '',
  postedTo: '',
};

describe('record filters from the form', () => {
  it('leaves empty fields out and gives no filter at all when nothing is filled', () => {
    expect(toFilter(empty)).toBeNull();
  });

  it('types numbers, trims, drops a leading # and makes whole days of dates', () => {
    const f = toFilter({ ...empty, search: ' harbour ', hashtag: '#travel', minLikes: '100', postedFrom: '2026-12-01', postedTo: '2026-12-02' });
    expect(f).toEqual({
      search: 'harbour',
      hashtag: 'travel',
      minLikes: 100,
      postedFrom: '2026-12-01T00:00:00.000Z',
      postedTo: '2026-12-02T23:59:59.000Z',
    });
  });
});

describe("a collector's parameters from the form", () => {
  const schema = { properties: { num_of_posts: { type: 'integer' }, start_date: { type: 'string', format: 'date' } } };

  it('types what the schema says and leaves blank fields out', () => {
    expect(toParameters(schema, { num_of_posts: '20', start_date: '' })).toEqual({ num_of_posts: 20 });
    expect(toParameters(schema, {})).toBeNull();
  });
});
