import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ejs from 'ejs';
import { ejsViewEngine, escapeHtml, localNames } from '../../../app/web/view-engine';

/** The engine must give templates exactly what EJS's own include would. */
describe('the EJS view engine', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-views-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const put = (name: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  };
  const render = (engine: ReturnType<typeof ejsViewEngine>, file: string, data: object) =>
    new Promise<string>((resolve, reject) => engine(path.join(dir, file), data, (err, html) => (err ? reject(err) : resolve(html!))));

  beforeAll(() => {
    put('pages/list.ejs', `<%- include('../partials/head') %>[<% rows.forEach(function (r) { %><%- include('../partials/row', { r: r }) %><% }) %>]<%= typeof r === 'undefined' ? 'no r' : 'r leaked' %>`);
    put('partials/head.ejs', `<h1><%= title %></h1>`);
    put('partials/row.ejs', `<li><%= r.name %> for <%= who %><%- include('badge', { label: r.id }) %></li>`);
    put('partials/badge.ejs', `(<%= label %>/<%= title %>)`);
  });

  test('when a page includes partials, then each sees the parent locals plus its own, escaped, and nothing leaks back', async () => {
    const html = await render(ejsViewEngine(), 'pages/list.ejs', { title: 'Queue & co', who: 'Ann', rows: [{ id: 1, name: '<b>' }, { id: 2, name: 'Two' }], cache: true });
    expect(html).toBe('<h1>Queue &amp; co</h1>[<li>&lt;b&gt; for Ann(1/Queue &amp; co)</li><li>Two for Ann(2/Queue &amp; co)</li>]no r');
  });

  test('when view caching is off, then edits to a template show on the next render; with it on, the compiled one is reused', async () => {
    const cached = ejsViewEngine();
    const fresh = ejsViewEngine();
    put('pages/one.ejs', 'v1 <%= x %>');
    expect(await render(cached, 'pages/one.ejs', { x: 1, cache: true })).toBe('v1 1');
    expect(await render(fresh, 'pages/one.ejs', { x: 1, cache: false })).toBe('v1 1');
    put('pages/one.ejs', 'v2 <%= x %>');
    expect(await render(cached, 'pages/one.ejs', { x: 2, cache: true })).toBe('v1 2');
    expect(await render(fresh, 'pages/one.ejs', { x: 2, cache: false })).toBe('v2 2');
  });

  test('when a template declares its own function or variables, or tests for a missing local, then it behaves as under EJS', async () => {
    put('pages/own.ejs', `<% function current(x) { return x === path ? 'yes' : 'no'; } var n = items.length; %><%= current('/a') %> <%= n %> <%= typeof missing === 'undefined' ? 'none' : missing %> <%= String(n).padStart(3, '0') %>`);
    expect(await render(ejsViewEngine(), 'pages/own.ejs', { path: '/a', items: [1, 2], cache: true })).toBe('yes 2 none 002');
  });

  test('when template code is too clever to read (a regular expression, a template literal), then it still renders, through with', async () => {
    put('pages/clever.ejs', "<%= name.replace(/o/g, '0') %> <%= `${name}!` %>");
    expect(localNames("<%= name.replace(/o/g, '0') %>", 'x.ejs')).toBeUndefined();
    expect(localNames('<%= a.b + c %><% rows.forEach(function (r) { %><%= r %><% }) %>', 'x.ejs')?.sort()).toEqual(['a', 'c', 'r', 'rows']);
    expect(await render(ejsViewEngine(), 'pages/clever.ejs', { name: 'foo', cache: true })).toBe('f00 foo!');
  });

  test('when a template fails, then the error reaches the callback with the file name', async () => {
    put('pages/bad.ejs', '<%= missing.value %>');
    await expect(render(ejsViewEngine(), 'pages/bad.ejs', { cache: true })).rejects.toThrow(/bad\.ejs/);
    await expect(render(ejsViewEngine(), 'pages/none.ejs', { cache: true })).rejects.toThrow(/ENOENT/);
  });
});

describe('what <%= %> writes', () => {
  const values: unknown[] = [
    'plain words', '', `<script>alert('x')</script>`, 'Tom & Jerry "quoted"', 'a > b < c', "it's", '&amp; already',
    0, -0, 42, 3.5, NaN, Infinity, -7, 1e21, null, undefined, true, false,
    { toString: () => '<b>' }, ['x', '<y>'], new Date(0), 10n,
  ];

  test.each(values.map((v) => [v]))('when a template writes %p, then it is escaped exactly as EJS escapes it', (value) => {
    expect(escapeHtml(value)).toBe(ejs.escapeXML(value as string));
  });

  test('when a page is rendered, then each value is written escaped and markup from <%- %> is kept', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-escape-'));
    try {
      writeFileSync(path.join(dir, 'page.ejs'), `<p title="<%= title %>"><%= n %> <%- html %></p>`);
      const html = await new Promise<string>((resolve, reject) =>
        ejsViewEngine()(path.join(dir, 'page.ejs'), { title: `"><img src=x onerror=alert(1)>`, n: 7, html: '<b>ok</b>', cache: true }, (err, out) => (err ? reject(err) : resolve(out!))),
      );
      expect(html).toBe('<p title="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;">7 <b>ok</b></p>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
