import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSettingsFiles } from '../../app/compose';
import { ConfigError } from '../../app/config/schema';

describe('the settings files', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'deskside-settings-'));
    mkdirSync(path.join(root, 'App_Data'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('when a key is in the environment, the site settings file and .env, then the environment wins, then the site file', () => {
    writeFileSync(path.join(root, 'App_Data', 'settings.env'), 'A=site\nB=site\n# a comment\nC="with spaces"\n');
    writeFileSync(path.join(root, '.env'), 'A=dotenv\nB=dotenv\nD=dotenv\n');
    const env: Record<string, string | undefined> = { A: 'real' };
    expect(loadSettingsFiles(env, root)).toEqual([path.join(root, 'App_Data', 'settings.env'), path.join(root, '.env')]);
    expect(env).toEqual({ A: 'real', B: 'site', C: 'with spaces', D: 'dotenv' });
  });

  test('when DESKSIDE_SETTINGS_FILE names another file, then that file is read instead of App_Data/settings.env', () => {
    writeFileSync(path.join(root, 'App_Data', 'settings.env'), 'A=default-place\n');
    writeFileSync(path.join(root, 'site.env'), 'A=named\n');
    const env: Record<string, string | undefined> = { DESKSIDE_SETTINGS_FILE: 'site.env' };
    loadSettingsFiles(env, root);
    expect(env.A).toBe('named');
  });

  test('when DESKSIDE_SETTINGS_FILE names a missing file, then the start is refused naming the setting', () => {
    expect(() => loadSettingsFiles({ DESKSIDE_SETTINGS_FILE: 'nowhere.env' }, root)).toThrow(ConfigError);
    expect(() => loadSettingsFiles({ DESKSIDE_SETTINGS_FILE: 'nowhere.env' }, root)).toThrow(/DESKSIDE_SETTINGS_FILE="nowhere.env" cannot be read/);
  });

  test('when Notepad saved the settings file with a byte-order mark, then the first key is still read', () => {
    writeFileSync(path.join(root, 'App_Data', 'settings.env'), '\uFEFF# Deskside settings\nDESKSIDE_AGENTS=CORP\\Helpdesk\nDESKSIDE_ADMINS=CORP\\Admins\n');
    const env: Record<string, string | undefined> = {};
    loadSettingsFiles(env, root);
    expect(env).toEqual({ DESKSIDE_AGENTS: 'CORP\\Helpdesk', DESKSIDE_ADMINS: 'CORP\\Admins' });
  });

  test('when there are no files, then nothing changes', () => {
    const env = { A: '1' };
    expect(loadSettingsFiles(env, root)).toEqual([]);
    expect(env).toEqual({ A: '1' });
  });
});
