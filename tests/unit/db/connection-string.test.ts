import { DatabaseConfigError, describeTarget, parseDatabaseUrl, splitAdo, type MssqlTarget } from '../../../app/db/connection-string';
import { parseDatabaseConfig, ConfigError } from '../../../app/config/schema';
import { openDatabase } from '../../../app/db/database';
import { loadMssqlModule, mssqlPoolConfig } from '../../../app/db/mssql-driver';

const mssql = (s: string) => parseDatabaseUrl(s) as MssqlTarget;

function errorOf(s: string): string {
  try {
    parseDatabaseUrl(s);
  } catch (err) {
    if (err instanceof DatabaseConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a DatabaseConfigError');
}

describe('DESKSIDE_DATABASE', () => {
  test('when it is sqlite:PATH, then the path is kept as written', () => {
    expect(parseDatabaseUrl('sqlite:App_Data/deskside.db')).toEqual({ kind: 'sqlite', path: 'App_Data/deskside.db' });
    expect(errorOf('sqlite:')).toMatch(/needs a file path/);
  });

  test('when it is an mssql:// URL, then host, port, database, credentials and flags are read (the password percent-decoded)', () => {
    const t = mssql('mssql://deskside:p%40ss%3Bw0rd@sql01.corp.example:14330/Deskside?encrypt=true&trustServerCertificate=false&multiSubnetFailover=true');
    expect(t).toMatchObject({
      server: 'sql01.corp.example',
      port: 14330,
      database: 'Deskside',
      auth: { kind: 'sql', user: 'deskside', password: 'p@ss;w0rd' },
      encrypt: true,
      trustServerCertificate: false,
      multiSubnetFailover: true,
    });
    expect(mssql('mssql://u:p@sql01/Deskside')).toMatchObject({ port: 1433, encrypt: true, trustServerCertificate: false, appName: 'Deskside' });
    expect(mssql('mssql://sql01/Deskside?trustedConnection=true&instanceName=SQLEXPRESS')).toMatchObject({ auth: { kind: 'windows' }, instanceName: 'SQLEXPRESS', port: undefined });
  });

  test('when it is the ADO string an admin copies, then every usual spelling is understood', () => {
    expect(mssql('Server=tcp:sql01,1433;Database=Deskside;User Id=deskside;Password=s3cret;Encrypt=True;')).toMatchObject({
      server: 'sql01',
      port: 1433,
      database: 'Deskside',
      auth: { kind: 'sql', user: 'deskside', password: 's3cret' },
      encrypt: true,
    });
    // Azure portal style, with quoting and harmless extras.
    expect(
      mssql("Server=tcp:x.database.windows.net,1433;Initial Catalog=Deskside;Persist Security Info=False;User ID=app;Password={pa;ss}}word};MultipleActiveResultSets=False;Encrypt=True;TrustServerCertificate=False;Connection Timeout=30;"),
    ).toMatchObject({ server: 'x.database.windows.net', database: 'Deskside', auth: { password: 'pa;ss}word' }, connectTimeoutMs: 30_000 });
    expect(mssql('Data Source=SQL01\\HELPDESK;Initial Catalog=Deskside;Integrated Security=SSPI')).toMatchObject({ server: 'SQL01', instanceName: 'HELPDESK', port: undefined, auth: { kind: 'windows' } });
    expect(mssql('Server=ag-listener.corp.example;Database=Deskside;Trusted_Connection=True;MultiSubnetFailover=True;ApplicationIntent=ReadWrite')).toMatchObject({ auth: { kind: 'windows' }, multiSubnetFailover: true, readOnlyIntent: false });
    expect(mssql('Server=(local);Database=D;User Id=CORP\\svc-deskside;Password="a ""quoted"" one"')).toMatchObject({ server: 'localhost', auth: { kind: 'ntlm', domain: 'CORP', user: 'svc-deskside', password: 'a "quoted" one' } });
    expect(mssql('Server=s;Database=D;Uid=u;Pwd=p;Encrypt=Strict').encrypt).toBe('strict');
  });

  test('when a string is wrong, then the message says what is wrong and never repeats the password', () => {
    const cases: [string, RegExp][] = [
      ['Server=sql01;User Id=u;Password=Hunter2secret', /no database name/],
      ['Database=D;User Id=u;Password=Hunter2secret', /no server/],
      ['Server=sql01;Database=D;User Id=u;Password=Hunter2secret;Trusted_Connection=True', /both Trusted_Connection and a user\/password/],
      ['Server=sql01;Database=D;User Id=u', /a user but no password/],
      ['Server=sql01;Database=D;Password=Hunter2secret', /no user/],
      ['Server=sql01,99999;Database=D;User Id=u;Password=Hunter2secret', /port must be a TCP port/],
      ['Server=np:\\\\sql01\\pipe\\sql\\query;Database=D;User Id=u;Password=Hunter2secret', /named pipes .* not supported/],
      ['Server=sql01;Database=D;User Id=u;Password=Hunter2secret;Colour=blue', /setting "Colour" is not known/],
      ['Server=sql01;Database=D;User Id=u;Password=Hunter2secret;Encrypt=perhaps', /Encrypt must be true or false/],
      ['Server=sql01;Database=D;User Id=u;Password=Hunter2secret;Max Pool Size=5', /DESKSIDE_DATABASE_POOL_SIZE/],
      ['Server=sql01;Server=sql02;Database=D;User Id=u;Password=Hunter2secret', /sets Server more than once/],
      ["Server=sql01;Database=D;User Id=u;Password='Hunter2secret", /opening ' but no closing/],
      ['mssql://u:Hunter2secret@sql01/Deskside?colour=blue', /parameter colour is not known/],
      ['mssql://u:Hunter2secret@/Deskside', /not a valid mssql:\/\/ URL|no host/],
      ['mssql://u:Hunter2secret@sql01', /no database name/],
      ['postgres://u:Hunter2secret@db/x', /is not understood/],
    ];
    for (const [input, expected] of cases) {
      const message = errorOf(input);
      expect({ input, message }).toEqual({ input, message: expect.stringMatching(expected) });
      expect(message).not.toContain('Hunter2');
    }
  });

  test('when the config is parsed, then a bad DESKSIDE_DATABASE and the new keys are reported by name without the password', () => {
    let problems: string[] = [];
    try {
      parseDatabaseConfig({ DESKSIDE_DATABASE: 'Server=sql01;User Id=u;Password=Hunter2secret', DESKSIDE_DATABASE_POOL_SIZE: '1', DESKSIDE_DATABASE_REQUEST_TIMEOUT: 'soon', DESKSIDE_MIGRATE_ON_START: 'maybe' });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems = err.problems;
    }
    expect(problems).toEqual([
      expect.stringMatching(/^DESKSIDE_DATABASE connection string has no database name/),
      expect.stringMatching(/^DESKSIDE_DATABASE_POOL_SIZE="1" must be a whole number of connections from 2 to 200/),
      expect.stringMatching(/^DESKSIDE_DATABASE_REQUEST_TIMEOUT="soon" must be a whole number of seconds/),
      expect.stringMatching(/^DESKSIDE_MIGRATE_ON_START="maybe" is not a boolean/),
    ]);
    expect(problems.join('\n')).not.toContain('Hunter2');
    expect(parseDatabaseConfig({ DESKSIDE_DATABASE: 'mssql://u:p@h/D', DESKSIDE_DATABASE_POOL_SIZE: '25', DESKSIDE_DATABASE_REQUEST_TIMEOUT: '60', DESKSIDE_MIGRATE_ON_START: 'false' })).toEqual({
      database: 'mssql://u:p@h/D',
      databasePoolSize: 25,
      databaseRequestTimeoutMs: 60_000,
      migrateOnStart: false,
    });
    expect(parseDatabaseConfig({})).toMatchObject({ database: 'sqlite:App_Data/deskside.db', databasePoolSize: 10, databaseRequestTimeoutMs: 30_000, migrateOnStart: true });
  });

  test('when a target is described for logs, then it names server, database and user but never the password', () => {
    const d = describeTarget(mssql('Server=tcp:sql01,1433;Database=Deskside;User Id=deskside;Password=Hunter2secret;MultiSubnetFailover=True'));
    expect(d).toBe('mssql://deskside@sql01:1433/Deskside?encrypt=true&multiSubnetFailover=true');
    expect(describeTarget(mssql('Server=SQL01\\HELPDESK;Database=D;Trusted_Connection=yes'))).toBe('mssql://SQL01\\HELPDESK/D?encrypt=true&trustedConnection=true');
  });

  test('when values are quoted ADO-style, then ; and doubled quotes survive inside them', () => {
    expect(splitAdo(`a=1; b = "x;""y" ;c={p}}q};d='it''s'`)).toEqual([
      ['a', '1'],
      ['b', 'x;"y'],
      ['c', 'p}q'],
      ['d', "it's"],
    ]);
  });
});

describe('the SQL Server pool configuration', () => {
  test('when a SQL login is used, then tedious gets the login, encryption, failover and the pool limits', () => {
    const cfg = mssqlPoolConfig(mssql('Server=tcp:ag.corp.example,1433;Database=Deskside;User Id=deskside;Password=pw;TrustServerCertificate=True;MultiSubnetFailover=True'), { poolSize: 12, requestTimeoutMs: 45_000 });
    expect(cfg).toMatchObject({
      server: 'ag.corp.example',
      port: 1433,
      database: 'Deskside',
      user: 'deskside',
      password: 'pw',
      requestTimeout: 45_000,
      pool: { max: 12, min: 0 },
      options: { encrypt: true, trustServerCertificate: true, multiSubnetFailover: true, useUTC: true, appName: 'Deskside' },
    });
  });

  test('when a domain account and password are given, then tedious uses NTLM with them', () => {
    const cfg = mssqlPoolConfig(mssql('Server=sql01;Database=D;User Id=CORP\\svc;Password=pw'), { poolSize: 4, requestTimeoutMs: 1000 });
    expect(cfg.authentication).toEqual({ type: 'ntlm', options: { domain: 'CORP', userName: 'svc', password: 'pw' } });
    expect(cfg.user).toBeUndefined();
  });

  test('when Trusted_Connection is used, then msnodesqlv8 gets an ODBC string with no credentials', () => {
    const cfg = mssqlPoolConfig(mssql('Server=tcp:ag.corp.example,1433;Database=Deskside;Trusted_Connection=True;MultiSubnetFailover=True;Encrypt=True'), { poolSize: 4, requestTimeoutMs: 1000 });
    expect(cfg.connectionString).toBe('Driver={ODBC Driver 18 for SQL Server};Server=tcp:ag.corp.example,1433;Database=Deskside;Trusted_Connection=Yes;Encrypt=Yes;TrustServerCertificate=No;APP=Deskside;MultiSubnetFailover=Yes;');
    expect(cfg.options).toMatchObject({ trustedConnection: true });
  });

  test('when Trusted_Connection is asked for and msnodesqlv8 is not installed, then startup stops with how to install it', () => {
    const trusted = mssql('Server=sql01;Database=D;Trusted_Connection=True');
    const missing = () => {
      throw new Error("Cannot find module 'msnodesqlv8'");
    };
    expect(() => loadMssqlModule(trusted, missing)).toThrow(/Trusted_Connection=True needs the optional msnodesqlv8 package.*npm install msnodesqlv8/);
    expect(() => openDatabase('Server=sql01;Database=D;Trusted_Connection=True')).toThrow(/msnodesqlv8/);
  });
});
