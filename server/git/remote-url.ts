// The repo URLs kiln accepts for remotes: https://, http:// and ssh:// URLs, and scp-style
// `user@host:path`. No file://, ext:: or local paths: a local repository is registered by path.
export const REMOTE_URL = /^(?:(?:https?|ssh):\/\/[^\s/]+\/\S*|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s/][^\s]*)$/;
export const REMOTE_URL_RULE = 'a repo url is https://, http://, ssh:// or user@host:path';
