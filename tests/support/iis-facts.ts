/**
 * What a stock IIS 10 with iisnode and URL Rewrite 2.1 already holds or accepts, written
 * down by us as data, so the tests can check web.config and iisnode.yml the way IIS and
 * iisnode would read them. No IIS runs in our CI: when one of these facts is wrong, the
 * tests are wrong with it. Each block names where it comes from.
 */

/**
 * Section groups and sections under <configuration>, with their delegation.
 * From <configSections> of a stock IIS 10 applicationHost.config (the same list in IIS
 * Express's): overrideModeDefault="Deny" means a web.config may not set the section until
 * an administrator unlocks it (HTTP 500.19 "This configuration section cannot be used at
 * this path"). `handlers` and `modules` are declared Deny there but re-opened for every
 * site by the file's trailing <location path="" overrideMode="Allow"> block, which is why
 * every iisnode site can add its handler. The rewrite sections are URL Rewrite 2.1's
 * registration; `iisnode` is registered Allow by iisnode's installer
 * (Azure/iisnode src/setup/iisnode-msi/addiisnodesection.js, src/config/iisnode_schema.xml).
 * `appSettings` is .NET's section (machine.config), which iisnode reads
 * (src/iisnode/cmoduleconfiguration.cpp CreateNodeEnvironment).
 */
export const SECTION_GROUPS = [
  'system.webServer',
  'system.webServer/security',
  'system.webServer/security/authentication',
  'system.webServer/tracing',
  'system.webServer/webdav',
  'system.webServer/rewrite',
];

/**
 * Attributes of <location> directly under <configuration>, whose children are sections
 * for one path of the site (IIS configuration reference, "Location <location>": path,
 * overrideMode, inheritInChildApplications; allowOverride is the older spelling).
 */
export const LOCATION_ATTRIBUTES = ['path', 'overrideMode', 'inheritInChildApplications', 'allowOverride'];

export const SECTIONS: Record<string, 'Allow' | 'Deny'> = {
  appSettings: 'Allow',
  'system.webServer/asp': 'Deny',
  'system.webServer/caching': 'Allow',
  'system.webServer/cgi': 'Deny',
  'system.webServer/defaultDocument': 'Allow',
  'system.webServer/directoryBrowse': 'Allow',
  'system.webServer/fastCgi': 'Deny',
  'system.webServer/globalModules': 'Deny',
  'system.webServer/handlers': 'Allow',
  'system.webServer/httpCompression': 'Allow',
  'system.webServer/httpErrors': 'Allow',
  'system.webServer/httpLogging': 'Deny',
  'system.webServer/httpProtocol': 'Allow',
  'system.webServer/httpRedirect': 'Allow',
  'system.webServer/httpTracing': 'Deny',
  'system.webServer/isapiFilters': 'Deny',
  'system.webServer/modules': 'Allow',
  'system.webServer/applicationInitialization': 'Allow',
  'system.webServer/odbcLogging': 'Deny',
  'system.webServer/security/access': 'Deny',
  'system.webServer/security/applicationDependencies': 'Deny',
  'system.webServer/security/authentication/anonymousAuthentication': 'Deny',
  'system.webServer/security/authentication/basicAuthentication': 'Deny',
  'system.webServer/security/authentication/clientCertificateMappingAuthentication': 'Deny',
  'system.webServer/security/authentication/digestAuthentication': 'Deny',
  'system.webServer/security/authentication/iisClientCertificateMappingAuthentication': 'Deny',
  'system.webServer/security/authentication/windowsAuthentication': 'Deny',
  'system.webServer/security/authorization': 'Allow',
  'system.webServer/security/ipSecurity': 'Deny',
  'system.webServer/security/dynamicIpSecurity': 'Deny',
  'system.webServer/security/isapiCgiRestriction': 'Deny',
  'system.webServer/security/requestFiltering': 'Allow',
  'system.webServer/serverRuntime': 'Deny',
  'system.webServer/serverSideInclude': 'Deny',
  'system.webServer/staticContent': 'Allow',
  'system.webServer/tracing/traceFailedRequests': 'Allow',
  'system.webServer/tracing/traceProviderDefinitions': 'Deny',
  'system.webServer/urlCompression': 'Allow',
  'system.webServer/validation': 'Allow',
  'system.webServer/webdav/globalSettings': 'Deny',
  'system.webServer/webdav/authoring': 'Deny',
  'system.webServer/webdav/authoringRules': 'Deny',
  'system.webServer/webSocket': 'Deny',
  'system.webServer/rewrite/allowedServerVariables': 'Deny',
  'system.webServer/rewrite/rules': 'Allow',
  'system.webServer/rewrite/outboundRules': 'Allow',
  'system.webServer/rewrite/globalRules': 'Deny',
  'system.webServer/rewrite/providers': 'Allow',
  'system.webServer/rewrite/rewriteMaps': 'Allow',
  'system.webServer/iisnode': 'Allow',
};

/**
 * Collections web.config may add to, each with the attribute that identifies an entry
 * (adding an entry whose key is already there is "Cannot add duplicate collection entry",
 * 500.19, unless a <remove> or <clear/> comes first) and the entries a stock server may
 * already hold. Stock entries, from applicationHost.config: IIS itself hides `web.config`;
 * the ASP.NET 4.x role service (present on many servers) adds the App_* and bin segments,
 * the denied ASP.NET source extensions and an X-Powered-By header; installing Windows
 * Authentication writes its two providers. MIME maps: the stock <staticContent> entries
 * for the kinds of file a site like Deskside serves (the full stock list is ~380 types).
 * Keys are compared case-insensitively, the stricter reading.
 */
export interface Collection {
  item: string;
  key: string;
  stock: string[];
}

const ASPNET_DENIED_EXTENSIONS = [
  '.asa', '.asax', '.ascx', '.master', '.skin', '.browser', '.sitemap', '.config', '.cs', '.csproj', '.vb', '.vbproj',
  '.webinfo', '.licx', '.resx', '.resources', '.mdb', '.vjsproj', '.java', '.jsl', '.ldb', '.dsdgm', '.ssdgm', '.lsad',
  '.ssmap', '.cd', '.dsprototype', '.lsaprototype', '.sdm', '.sdmDocument', '.mdf', '.ldf', '.ad', '.dd', '.ldd', '.sd',
  '.adprototype', '.lddprototype', '.exclude', '.refresh', '.compiled', '.msgx', '.vsdisco', '.rules',
];

/** Stock <mimeMap> entries (fileExtension → mimeType) for web assets. */
export const STOCK_MIME_TYPES: Record<string, string> = {
  '.css': 'text/css',
  '.js': 'application/javascript',
  '.json': 'application/json',
  '.map': 'text/plain',
  '.svg': 'image/svg+xml',
  '.svgz': 'image/svg+xml',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.htm': 'text/html',
  '.html': 'text/html',
  '.txt': 'text/plain',
  '.xml': 'text/xml',
  '.ts': 'video/vnd.dlna.mpeg-tts',
  '.woff': 'font/x-woff',
  '.woff2': 'application/font-woff2',
  '.otf': 'font/otf',
  '.ttf': 'application/octet-stream',
  '.eot': 'application/vnd.ms-fontobject',
  '.pdf': 'application/pdf',
  '.webm': 'video/webm',
  '.mp4': 'video/mp4',
  '.wasm': 'application/wasm',
};

export const COLLECTIONS: Record<string, Collection> = {
  appSettings: { item: 'add', key: 'key', stock: [] },
  'system.webServer/handlers': { item: 'add', key: 'name', stock: ['TRACEVerbHandler', 'OPTIONSVerbHandler', 'StaticFile'] },
  'system.webServer/httpProtocol/customHeaders': { item: 'add', key: 'name', stock: ['X-Powered-By'] },
  'system.webServer/security/requestFiltering/hiddenSegments': {
    item: 'add',
    key: 'segment',
    stock: ['web.config', 'bin', 'App_code', 'App_GlobalResources', 'App_LocalResources', 'App_WebReferences', 'App_Data', 'App_Browsers'],
  },
  'system.webServer/security/requestFiltering/fileExtensions': { item: 'add', key: 'fileExtension', stock: ASPNET_DENIED_EXTENSIONS },
  'system.webServer/security/requestFiltering/requestLimits/headerLimits': { item: 'add', key: 'header', stock: [] },
  'system.webServer/security/authentication/windowsAuthentication/providers': { item: 'add', key: 'value', stock: ['Negotiate', 'NTLM'] },
  'system.webServer/staticContent': { item: 'mimeMap', key: 'fileExtension', stock: Object.keys(STOCK_MIME_TYPES) },
  'system.webServer/rewrite/rules': { item: 'rule', key: 'name', stock: [] },
};

/**
 * The attributes each element Deskside's web.config uses may carry; IIS answers an
 * unknown one with 500.19 ("Unrecognized attribute"). iisnode's come from
 * Azure/iisnode src/config/iisnode_schema.xml (identical in iisnode_schema_x64.xml); the
 * others from the IIS configuration reference (learn.microsoft.com/iis/configuration) and
 * the URL Rewrite Module Configuration Reference. `useAppPoolCredentials` is in IIS's own
 * schema (IIS_schema.xml) though the reference page omits it.
 */
export const IISNODE_ATTRIBUTES: Record<string, 'string' | 'uint' | 'bool'> = {
  node_env: 'string',
  asyncCompletionThreadCount: 'uint',
  nodeProcessCountPerApplication: 'uint',
  nodeProcessCommandLine: 'string',
  interceptor: 'string',
  maxConcurrentRequestsPerProcess: 'uint',
  maxNamedPipeConnectionRetry: 'uint',
  namedPipeConnectionRetryDelay: 'uint',
  maxNamedPipeConnectionPoolSize: 'uint',
  maxNamedPipePooledConnectionAge: 'uint',
  initialRequestBufferSize: 'uint',
  maxRequestBufferSize: 'uint',
  uncFileChangesPollingInterval: 'uint',
  gracefulShutdownTimeout: 'uint',
  logDirectory: 'string',
  debuggingEnabled: 'bool',
  debuggerExtensionDll: 'string',
  debugHeaderEnabled: 'bool',
  debuggerVirtualDir: 'string',
  debuggerPathSegment: 'string',
  debuggerPortRange: 'string',
  maxLogFileSizeInKB: 'uint',
  maxTotalLogFileSizeInKB: 'uint',
  maxLogFiles: 'uint',
  loggingEnabled: 'bool',
  devErrorsEnabled: 'bool',
  flushResponse: 'bool',
  watchedFiles: 'string',
  enableXFF: 'bool',
  promoteServerVars: 'string',
  configOverrides: 'string',
  recycleSignalEnabled: 'bool',
  idlePageOutTimePeriod: 'uint',
  nodeProcessStickySessions: 'bool',
};

export const ELEMENT_ATTRIBUTES: Record<string, string[]> = {
  appSettings: [],
  'appSettings/add': ['key', 'value'],
  'system.webServer/handlers': ['accessPolicy'],
  'system.webServer/handlers/add': ['name', 'path', 'verb', 'modules', 'type', 'scriptProcessor', 'resourceType', 'requireAccess', 'preCondition', 'allowPathInfo', 'responseBufferLimit'],
  'system.webServer/iisnode': Object.keys(IISNODE_ATTRIBUTES),
  'system.webServer/rewrite/rules': [],
  'system.webServer/rewrite/rules/rule': ['name', 'stopProcessing', 'enabled', 'patternSyntax'],
  'system.webServer/rewrite/rules/rule/match': ['url', 'ignoreCase', 'negate'],
  'system.webServer/rewrite/rules/rule/conditions': ['logicalGrouping', 'trackAllCaptures'],
  'system.webServer/rewrite/rules/rule/conditions/add': ['input', 'pattern', 'matchType', 'ignoreCase', 'negate'],
  'system.webServer/rewrite/rules/rule/action': ['type', 'url', 'appendQueryString', 'redirectType', 'statusCode', 'subStatusCode', 'statusReason', 'statusDescription', 'logRewrittenUrl'],
  'system.webServer/security/authentication/anonymousAuthentication': ['enabled', 'userName', 'password', 'logonMethod'],
  'system.webServer/security/authentication/windowsAuthentication': ['enabled', 'authPersistNonNTLM', 'authPersistSingleRequest', 'useKernelMode', 'useAppPoolCredentials'],
  'system.webServer/security/authentication/windowsAuthentication/providers': [],
  'system.webServer/security/authentication/windowsAuthentication/providers/add': ['value'],
  'system.webServer/security/requestFiltering': ['allowDoubleEscaping', 'allowHighBitCharacters', 'unescapeQueryString', 'removeServerHeader'],
  'system.webServer/security/requestFiltering/requestLimits': ['maxAllowedContentLength', 'maxUrl', 'maxQueryString'],
  'system.webServer/security/requestFiltering/hiddenSegments': ['applyToWebDAV'],
  'system.webServer/security/requestFiltering/hiddenSegments/add': ['segment'],
  'system.webServer/security/requestFiltering/fileExtensions': ['allowUnlisted', 'applyToWebDAV'],
  'system.webServer/security/requestFiltering/fileExtensions/add': ['fileExtension', 'allowed'],
  'system.webServer/httpErrors': ['errorMode', 'existingResponse', 'defaultResponseMode', 'defaultPath', 'detailedMoreInformationLink', 'allowAbsolutePathsWhenDelegated'],
  'system.webServer/httpProtocol': ['allowKeepAlive'],
  'system.webServer/httpProtocol/customHeaders': [],
  'system.webServer/httpProtocol/customHeaders/add': ['name', 'value'],
  'system.webServer/staticContent': ['enableDocFooter', 'isDocFooterFileName', 'defaultDocFooter'],
  'system.webServer/staticContent/clientCache': ['cacheControlMode', 'cacheControlMaxAge', 'httpExpires', 'cacheControlCustom', 'setEtag'],
  'system.webServer/staticContent/mimeMap': ['fileExtension', 'mimeType'],
};
for (const [name, collection] of Object.entries(COLLECTIONS)) {
  ELEMENT_ATTRIBUTES[`${name}/remove`] = [collection.key];
  ELEMENT_ATTRIBUTES[`${name}/clear`] = [];
}

/**
 * The keys iisnode.yml may set: those iisnode's own parser knows
 * (Azure/iisnode src/iisnode/cmoduleconfiguration.cpp ApplyConfigOverrideKeyValue,
 * compared case-insensitively). It ignores any other key without a word, so a misspelt
 * one silently does nothing. Note `debugPortRange` here is `debuggerPortRange` in
 * web.config, and `configOverrides` cannot be set from the file itself.
 */
export const IISNODE_YML_KEYS: Record<string, 'string' | 'uint' | 'bool'> = Object.fromEntries([
  ...Object.entries(IISNODE_ATTRIBUTES).filter(([k]) => k !== 'configOverrides' && k !== 'debuggerPortRange'),
  ['debugPortRange', 'string'],
]);

/**
 * iisnode.yml as iisnode parses it, ported from ApplyYamlConfigOverrides in
 * cmoduleconfiguration.cpp: one `key: value` per line; a `#` anywhere starts a comment;
 * only spaces (not tabs) are skipped; the key runs to the first space or colon and only
 * spaces may follow it before the colon; the value is the rest, trimmed of spaces, taken
 * verbatim (quotes stay). A line it cannot read fails the whole file, and iisnode then
 * answers every request with an error page, so this throws where iisnode fails.
 */
export function parseIisnodeYml(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, line] of text.split(/\r\n|\r|\n/).entries()) {
    const content = line.split('#')[0];
    const trimmedStart = content.replace(/^ +/, '');
    if (trimmedStart === '') continue;
    const colon = trimmedStart.indexOf(':');
    if (colon <= 0) throw new Error(`iisnode.yml line ${i + 1}: iisnode needs "key: value"`);
    const keyEnd = trimmedStart.indexOf(' ');
    const key = trimmedStart.slice(0, keyEnd >= 0 && keyEnd < colon ? keyEnd : colon);
    if (trimmedStart.slice(key.length, colon).replace(/ /g, '') !== '') throw new Error(`iisnode.yml line ${i + 1}: only spaces may follow the key "${key}" before its colon`);
    const value = trimmedStart.slice(colon + 1).replace(/^ +| +$/g, '');
    if (value !== '') out[key] = value;
  }
  return out;
}
