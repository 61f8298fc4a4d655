// `/repos/:repo/at/:sha/:path`: one file's text at one commit, read only, a numbered anchor per
// line (`#L12`), so that a pipeline problem's FILE:LINE:COL can link to the line it names.
import { shortSha } from '../layout.js';
import type { Page } from './page.js';

export function filePage(repo: string, sha: string, path: string, text: string): Page {
  const lines = text.replace(/\n$/, '').split('\n');
  return {
    title: `${path} at ${shortSha(sha)} · ${repo}`,
    body: (
      <>
        <h1>
          <a href={`/repos/${encodeURIComponent(repo)}`}>{repo}</a> · <code>{path}</code> at <code>{shortSha(sha)}</code>
        </h1>
        <table class="file-text">
          <tbody>
            {lines.map((line, i) => (
              <tr id={`L${i + 1}`}>
                <td class="line-no"><a href={`#L${i + 1}`}>{String(i + 1)}</a></td>
                <td><pre>{line}</pre></td>
              </tr>
            ))}
          </tbody>
        </table>
      </>
    ),
  };
}

/** Where the file view shows `path` at `sha`, at `line` when given. */
export function fileHref(repo: string, sha: string, path: string, line?: number): string {
  return `/repos/${encodeURIComponent(repo)}/at/${sha}/${path.split('/').map(encodeURIComponent).join('/')}${line ? `#L${line}` : ''}`;
}
