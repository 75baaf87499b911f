// The entry iisnode runs (web.config <handlers> and the rewrite target) and `npm start`
// starts. It lives in the site root on purpose: iisnode reads iisnode.yml, writes its
// logs (iisnode\) and resolves watchedFiles relative to the folder of this file.
// iisnode require()s it, so it stays CommonJS; the app itself is the compiled dist/.
'use strict';

require('./dist/server.js');
