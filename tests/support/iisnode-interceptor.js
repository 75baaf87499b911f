// A stand-in for iisnode's %ProgramFiles%\iisnode\interceptor.js (Azure/iisnode
// src/scripts/interceptor.js), minus its log capture: iisnode starts
// `node interceptor.js "<site>\server.js"` with the site folder as the working directory
// (src/iisnode/cnodeprocess.cpp), and the interceptor drops itself from argv and
// require()s the entry. So the entry is never require.main, and it must be CommonJS.
'use strict';

process.argv.splice(1, 1);
require(process.argv[1]);
