import path from 'node:path';
import { parseConfig } from '../../../app/config/schema';
import { APP_ROOT } from '../../../app/paths';
import { configProblems } from '../../support/config';

const MB = 1024 * 1024;

describe('attachment settings', () => {
  test('when nothing is set, then 25 MB a file, 50 MB a post, 10 files, a folder under App_Data, 30 days, hourly sweeps', () => {
    expect(parseConfig({}).attachments).toEqual({
      maxFileBytes: 25 * MB,
      maxPostBytes: 50 * MB,
      maxFiles: 10,
      store: { kind: 'folder', path: path.resolve(APP_ROOT, 'App_Data', 'attachments') },
      retentionMs: 30 * 86_400_000,
      sweepIntervalMs: 3_600_000,
    });
  });

  test('when the data folder moves, then the default store moves with it; a relative folder is under the app folder', () => {
    expect(parseConfig({ DESKSIDE_DATA_DIR: '/srv/deskside-data' }).attachments.store).toEqual({ kind: 'folder', path: '/srv/deskside-data/attachments' });
    expect(parseConfig({ DESKSIDE_ATTACHMENT_STORE: 'files' }).attachments.store).toEqual({ kind: 'folder', path: path.join(APP_ROOT, 'files') });
  });

  test('when the store is "database", in any case, then bytes go to the database', () => {
    expect(parseConfig({ DESKSIDE_ATTACHMENT_STORE: 'Database' }).attachments.store).toEqual({ kind: 'database' });
  });

  test('when the store is a UNC share, then it is kept as the share (on Windows)', () => {
    const share = '\\\\files01\\deskside$\\attachments';
    const store = parseConfig({ DESKSIDE_ATTACHMENT_STORE: share }, 'win32').attachments.store;
    expect(store.kind).toBe('folder');
    // path.resolve follows the platform this runs on; on Windows it keeps \\files01\deskside$\attachments.
    if (process.platform === 'win32') expect(store).toEqual({ kind: 'folder', path: share });
  });

  test('when a limit is out of bounds or the post total is below the file limit, then every problem is named', () => {
    expect(configProblems({ DESKSIDE_ATTACHMENT_MAX_MB: '0' })).toEqual([expect.stringMatching(/^DESKSIDE_ATTACHMENT_MAX_MB="0" must be a number of MB from 0.01 to 2048/)]);
    expect(configProblems({ DESKSIDE_ATTACHMENT_MAX_FILES: '1000' })).toEqual([expect.stringMatching(/DESKSIDE_ATTACHMENT_MAX_FILES="1000" must be a whole number of files from 1 to 100/)]);
    expect(configProblems({ DESKSIDE_ATTACHMENT_MAX_MB: '30', DESKSIDE_ATTACHMENT_POST_MAX_MB: '20' })).toEqual([expect.stringMatching(/DESKSIDE_ATTACHMENT_POST_MAX_MB \(20\) is smaller than DESKSIDE_ATTACHMENT_MAX_MB \(30\)/)]);
    expect(configProblems({ DESKSIDE_ATTACHMENT_STORE: 'C:\\files\u0007' })).toEqual([expect.stringMatching(/DESKSIDE_ATTACHMENT_STORE=".*" holds a control character/)]);
  });

  test('when limits are given in fractions of a MB (tests, small sites), then they are exact bytes', () => {
    const a = parseConfig({ DESKSIDE_ATTACHMENT_MAX_MB: '0.5', DESKSIDE_ATTACHMENT_POST_MAX_MB: '1.5', DESKSIDE_ATTACHMENT_RETENTION_DAYS: '0', DESKSIDE_ATTACHMENT_SWEEP_MINUTES: '0.5' }).attachments;
    expect(a).toMatchObject({ maxFileBytes: MB / 2, maxPostBytes: 1.5 * MB, retentionMs: 0, sweepIntervalMs: 30_000 });
  });
});
