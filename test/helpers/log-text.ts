// Log lines with their times taken out, so a test can compare whole lines.

/** `kiln: step 'a' exited with code 0 after 0.3 s` → `… after T`; `in 14 s` → `in T`. */
export const timeless = (line: string): string =>
  line.replace(/(after|in) \d+(\.\d+)? s\b/g, '$1 T').replace(/(after|in) \d+ [mh]( \d+ [sm])?\b/g, '$1 T');
