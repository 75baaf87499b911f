import { FilterError, listQuery, parseListParams, parseSort, queryObject, toQuery, viewQuery } from '../../../../app/features/tickets/tickets.filters';

const agent = { status: 'active' as const };

describe('the list address', () => {
  test('when a sort names a key, then "-" in front means descending, and the old "oldest" still means oldest first', () => {
    expect(parseSort('-updated')).toEqual({ key: 'updated', desc: true });
    expect(parseSort('priority')).toEqual({ key: 'priority', desc: false });
    expect(parseSort('oldest')).toEqual({ key: 'created', desc: false });
    expect(parseSort('-oldest')).toEqual({ key: 'created', desc: true });
    for (const bad of ['', '-', '--id', 'title', 'requester', 'assignee', 'status', 'category', 'updated ', 'Updated', 'constructor', '-__proto__', 'toString']) expect(parseSort(bad)).toBeUndefined();
  });

  test('when nothing is given, then the queue is open tickets, recently updated first, 25 a page', () => {
    const p = parseListParams({}, agent);
    expect(p).toMatchObject({ status: 'active', sort: '-updated', per: 25, cols: [], page: 1 });
    expect(toQuery(p, {}).sort).toEqual({ key: 'updated', desc: true });
  });

  test.each([
    [{ per: '30' }, 'per must be one of 25, 50, 100'],
    [{ per: '050' }, 'per must be one of'],
    [{ cols: 'created,secret' }, 'cols may name created'],
    [{ sort: 'title' }, 'sort must be one of id, created, updated, priority'],
    [{ sort: ['id', 'priority'] }, 'given more than once'],
  ])('when the address has %o, then it is refused saying what is accepted', (query, message) => {
    expect(() => parseListParams(query, agent)).toThrow(FilterError);
    expect(() => parseListParams(query, agent)).toThrow(message);
  });

  test('when a list is written back as an address, then defaults are left out and the same list always reads the same', () => {
    const p = parseListParams({ sort: 'oldest', per: '50', cols: 'created,created', assignee: 'me', page: '3' }, agent);
    expect(listQuery(p, {}, agent)).toBe('assignee=me&sort=created&per=50&cols=created&page=3');
    expect(viewQuery(p, agent)).toBe('assignee=me&sort=created&cols=created');
    expect(viewQuery(parseListParams(queryObject(viewQuery(p, agent)), agent), agent)).toBe(viewQuery(p, agent));
    expect(listQuery(parseListParams({}, agent), {}, agent)).toBe('');
  });

  test('when words are searched without a sort, then the newest tickets come first, and a chosen sort is kept in the address', () => {
    const searched = parseListParams({ q: 'outlook' }, agent);
    expect(searched.sort).toBe('-created');
    expect(toQuery(searched, {}).sort).toEqual({ key: 'created', desc: true });
    expect(listQuery(searched, {}, agent)).toBe('q=outlook');
    const byUpdate = parseListParams({ q: 'outlook', sort: '-updated' }, agent);
    expect(listQuery(byUpdate, {}, agent)).toBe('q=outlook&sort=-updated');
    expect(toQuery(byUpdate, {}).sort).toEqual({ key: 'updated', desc: true });
    // Clearing the words keeps a sort that was chosen, and drops the search's default.
    expect(listQuery(searched, { q: '' }, agent)).toBe('sort=-created');
    expect(listQuery(parseListParams({}, agent), { q: 'vpn' }, agent)).toBe('q=vpn&sort=-updated');
  });

  test('when a stored query string is read back, then repeated keys stay repeated (and are refused by the parser)', () => {
    expect(queryObject('a=1&b=x%20y&a=2')).toEqual({ a: ['1', '2'], b: 'x y' });
    expect(() => parseListParams(queryObject('status=open&status=new'), agent)).toThrow('given more than once');
  });
});
