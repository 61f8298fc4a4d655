// Stage 1: pipeline.yml text → a YAML document that remembers where every node came from.
// Refuses, fast and with one clear message, what would hurt the server: documents over
// 1 MiB, alias bombs and deep nesting.
import { createRequire } from 'node:module';
import type { Document, LineCounter as LineCounterType, Node } from 'yaml';
import type { Problem } from './types.js';

// Required, not imported: importing a CommonJS package from ESM makes Node parse its source for
// export names, and that parser stays in memory (several MiB of a server's or agent's RSS).
const { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq } = createRequire(import.meta.url)('yaml') as typeof import('yaml');

export const MAX_PIPELINE_BYTES = 1024 * 1024;
export const MAX_ALIASES = 100;
export const MAX_DEPTH = 64;

export type PathSegment = string | number;

export interface ParsedPipeline {
  /** The document as plain data (aliases resolved, merge keys applied). */
  value: unknown;
  /** Line and column of the node at `path`, or of its closest existing ancestor. */
  locate(path: readonly PathSegment[], at?: 'key' | 'value'): { line: number; col: number };
}

export type ParseResult = { ok: true; parsed: ParsedPipeline } | { ok: false; problems: Problem[] };

export function parsePipelineText(text: string): ParseResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PIPELINE_BYTES) {
    return fail(1, 1, `the file is ${formatSize(bytes)}; pipeline.yml may be at most 1 MiB`);
  }
  const flowDepth = maxFlowDepth(text);
  if (flowDepth.depth > MAX_DEPTH) {
    return fail(flowDepth.line, flowDepth.col, `the document is nested too deeply (limit ${MAX_DEPTH} levels)`);
  }
  const lines = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter: lines, merge: true, uniqueKeys: true, prettyErrors: false });
  } catch (error) {
    if (error instanceof RangeError) return fail(1, 1, `the document is nested too deeply (limit ${MAX_DEPTH} levels)`);
    throw error;
  }
  const syntax = doc.errors[0];
  if (syntax) {
    const { line, col } = lines.linePos(syntax.pos[0]);
    return fail(line, col, yamlMessage(syntax.code, syntax.message, text.slice(syntax.pos[0], syntax.pos[1])));
  }
  const depthProblem = checkDepth(doc.contents);
  if (depthProblem) return { ok: false, problems: [withPosition(depthProblem.node, lines, depthProblem.message)] };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/alias/i.test(message)) return fail(1, 1, `too many aliases (limit ${MAX_ALIASES}); is this an alias bomb?`);
    if (error instanceof RangeError) return fail(1, 1, `the document is nested too deeply (limit ${MAX_DEPTH} levels)`);
    return fail(1, 1, oneLine(message));
  }
  return { ok: true, parsed: { value, locate: (path, at = 'value') => locateNode(doc, lines, path, at) } };
}

function fail(line: number, col: number, message: string): ParseResult {
  return { ok: false, problems: [{ path: '', line, col, message }] };
}

function withPosition(node: Node, lines: LineCounterType, message: string): Problem {
  const { line, col } = lines.linePos(node.range?.[0] ?? 0);
  return { path: '', line, col, message };
}

/**
 * The deepest nesting of flow collections (`[`, `{`) outside quotes and comments, found in
 * one pass before parsing: the YAML parser itself runs out of memory on a few thousand.
 */
function maxFlowDepth(text: string): { depth: number; line: number; col: number } {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') {
      line++;
      lineStart = i + 1;
      if (quote === null) continue;
    }
    if (quote !== null) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      if (end === -1) break;
      i = end - 1;
    } else if (ch === '"' || ch === "'") {
      if (depth > 0 || i === lineStart || /[\s:,\-]/.test(text[i - 1]!)) quote = ch;
    } else if (ch === '[' || ch === '{') {
      if (++depth > MAX_DEPTH) return { depth, line, col: i - lineStart + 1 };
    } else if ((ch === ']' || ch === '}') && depth > 0) depth--;
  }
  return { depth, line, col: 1 };
}

/** Walks the node tree without recursion, so a hostile document cannot blow the stack. */
function checkDepth(root: unknown): { node: Node; message: string } | null {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: root, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > MAX_DEPTH) return { node, message: `the document is nested too deeply (limit ${MAX_DEPTH} levels)` };
    for (const item of node.items) {
      if (isPair(item)) stack.push({ node: item.value, depth: depth + 1 });
      else stack.push({ node: item, depth: depth + 1 });
    }
  }
  return null;
}

function locateNode(
  doc: Document.Parsed,
  lines: LineCounterType,
  path: readonly PathSegment[],
  at: 'key' | 'value',
): { line: number; col: number } {
  let node: unknown = doc.contents;
  let found: Node | null = isNodeWithRange(node) ? node : null;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      if (last && at === 'key' && isNodeWithRange(pair.key)) return position(pair.key, lines);
      node = pair.value;
      if (isNodeWithRange(pair.key)) found = pair.key as Node;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else break;
    if (isNodeWithRange(node)) found = node;
  }
  return found ? position(found, lines) : { line: 1, col: 1 };
}

function isNodeWithRange(node: unknown): node is Node {
  return typeof node === 'object' && node !== null && 'range' in node && Array.isArray((node as Node).range);
}

function position(node: Node, lines: LineCounterType): { line: number; col: number } {
  return lines.linePos(node.range?.[0] ?? 0);
}

function yamlMessage(code: string, message: string, source: string): string {
  if (code === 'DUPLICATE_KEY') {
    const key = source.split(/:\s|:$|\n/)[0]!.trim();
    return key ? `duplicate key "${key}"` : 'duplicate key';
  }
  return `invalid YAML: ${oneLine(message).replace(/ at line \d+, column \d+.*$/, '')}`;
}

function oneLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
