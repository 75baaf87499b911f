import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

// With mail off (no DESKSIDE_SMTP_URL) a process never loads the mail libraries: they are
// most of what a process holds at start (decision 0019). The built app, as iisnode loads it.
describe('libraries loaded on first use', () => {
  test('when the app is built with its routes, then no mail library has been loaded; using one loads it', () => {
    const script = `
      require('./dist/app.js');
      require('./dist/compose.js');
      const mail = /node_modules[\\\\/](imapflow|mailparser|html-to-text|nodemailer[\\\\/]lib[\\\\/]nodemailer\\.js)/;
      const loaded = () => Object.keys(require.cache).filter((f) => mail.test(f)).length;
      const before = loaded();
      require('./dist/features/mail/reply-text.js').htmlToText('<p>Hello</p>');
      process.stdout.write(JSON.stringify({ before, after: loaded() }));`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ before: 0, after: 1 });
  });
});
