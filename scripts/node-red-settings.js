// Settings for `npm start` and `npm run demo`: a project-local, git-ignored user dir,
// this package loaded from the working tree, the editor on 127.0.0.1 only.
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..');

module.exports = {
  uiHost: process.env.HOST || '127.0.0.1',
  uiPort: Number(process.env.PORT) || 1880,
  userDir: process.env.NODE_RED_USER_DIR || path.join(root, '.node-red'),
  flowFile: process.env.NODE_RED_FLOW_FILE || 'flows.json',
  nodesDir: [root],
  // Unset: Node-RED generates a secret and keeps the credentials file encrypted with it.
  credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET || undefined,
  telemetry: { enabled: false, updateNotification: false },
  editorTheme: { tours: false, projects: { enabled: false } },
  diagnostics: { enabled: false },
  logging: { console: { level: process.env.NODE_RED_LOG_LEVEL || 'info', metrics: false, audit: false } },
};
