// A run's error as the page shows it: a pipeline that does not validate gives one problem per
// line (`pipeline.yml:12:5: …`), listed with each FILE:LINE:COL linking to that line at the
// run's commit; any other error stays one box of text.
import { fileHref } from './file.js';

const PROBLEM = /^([^\s:]+):(\d+):(\d+): (.*)$/;

export function RunError({ error, repo, sha }: { error: string; repo: string; sha: string }) {
  const lines = error.split('\n').filter((l) => l.trim() !== '');
  if (!lines.some((l) => PROBLEM.test(l))) return <p class="error-box">{error}</p>;
  return (
    <div class="error-box">
      <ul class="problems" data-problems>
        {lines.map((line) => {
          const m = PROBLEM.exec(line);
          if (!m) return <li>{line}</li>;
          const [, file, lineNo, col, message] = m as unknown as [string, string, string, string, string];
          return <li><a href={fileHref(repo, sha, file, Number(lineNo))}><code>{`${file}:${lineNo}:${col}`}</code></a>{`: ${message}`}</li>;
        })}
      </ul>
    </div>
  );
}
