// @ts-check
// Lock admin console: a small single-page app of ES modules without a build step (views/admin/*.js,
// served at /admin/*.js). It signs in through Lock itself (authorization code + PKCE with the
// built-in `lock-console` client), keeps its tokens in memory only, and manages Lock through the
// admin REST API (/admin/api/v1).
import { startConsole } from '../admin/shell.js';

startConsole();
