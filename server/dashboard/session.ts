// Dashboard sessions live in the access layer (server/access/sessions.ts); re-exported for the dashboard's files.
export { sameToken, SESSION_COOKIE, type Session, type Sessions } from '../access/sessions.js';
