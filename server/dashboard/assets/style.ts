// The dashboard's one style sheet.
export const styleCss = `
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #fff; --panel: #f6f8fa; --accent: #0969da;
  --success: #1a7f37; --failed: #cf222e; --error: #cf222e; --running: #bf8700; --queued: #8c959f;
  --blocked: #8250df; --cancelled: #57606a; --skipped: #afb8c1; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { display: flex; gap: 1.25rem; align-items: center; padding: .6rem 1.25rem; background: #24292f; color: #fff; }
header.top a { color: #fff; }
header.top .brand { font-weight: 700; letter-spacing: .02em; }
header.top nav { display: flex; gap: 1rem; flex: 1; }
header.top nav a[aria-current="page"] { text-decoration: underline; }
header.top form { margin: 0; }
header.top button { background: transparent; color: #fff; border: 1px solid #8c959f; }
main { padding: 1rem 1.25rem; max-width: 1200px; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85em; }
.muted { color: var(--muted); }
.status { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .8rem; font-weight: 600; color: #fff; background: var(--queued); }
.status.success { background: var(--success); } .status.failed, .status.error { background: var(--failed); }
.status.running { background: var(--running); } .status.blocked { background: var(--blocked); }
.status.cancelled { background: var(--cancelled); } .status.skipped { background: var(--skipped); color: var(--fg); }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; margin: .5rem 0 1rem; }
.actions form { margin: 0; }
.run-inputs { display: grid; gap: .3rem; margin: .5rem 0; border: 1px solid #d0d7de; border-radius: 6px; }
.run-inputs label { margin-right: .4rem; }
dl.inputs { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; margin: .5rem 0; }
dl.inputs dd { margin: 0; }
button, input[type=submit] { font: inherit; padding: .25rem .8rem; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); cursor: pointer; }
button.primary { background: var(--success); color: #fff; border-color: var(--success); }
a.button { display: inline-block; padding: .25rem .8rem; border-radius: 6px; border: 1px solid var(--success); background: var(--success); color: #fff; text-decoration: none; }
button.danger { background: var(--failed); color: #fff; border-color: var(--failed); }
input[type=text], input[type=password] { font: inherit; padding: .25rem .5rem; border: 1px solid var(--line); border-radius: 6px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: .5rem 0; }
.disconnected { position: sticky; top: 0; z-index: 10; background: #fff8c5; border-bottom: 1px solid #d4a72c66; padding: .4rem 1rem; text-align: center; }
.problems { margin: 0; padding-left: 1.2rem; }
.file-text { border-collapse: collapse; font: 12px ui-monospace, monospace; }
.file-text td { border: 0; padding: 0 .6rem; vertical-align: top; }
.file-text pre { margin: 0; white-space: pre-wrap; }
.file-text .line-no { text-align: right; user-select: none; }
.file-text .line-no a { color: var(--muted); }
.file-text tr:target { background: #fff8c5; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: .5rem 0; }
.pager { display: flex; gap: 1rem; margin: .75rem 0; }
td.outcome.refused, td.outcome.error { color: var(--failed); font-weight: 600; }
.error-box { background: #ffebe9; border: 1px solid #ff818266; border-radius: 6px; padding: .5rem 1rem; }
svg.graph { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; max-width: 100%; height: auto; }
svg.graph .edge { fill: none; stroke: #8c959f; stroke-width: 1.5; }
svg.graph text { font: 12px system-ui, sans-serif; }
svg.graph a text.name { fill: #fff; font-weight: 600; }
svg.graph .matrix-group rect { fill: none; stroke: var(--line); stroke-dasharray: 4 3; }
svg.graph text.group { fill: currentColor; font-weight: 600; }
svg.graph text.sub { fill: #fff; opacity: .9; font-size: 11px; }
svg.chart { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; max-width: 100%; height: auto; }
svg.chart text { font: 11px system-ui, sans-serif; fill: var(--muted); }
.legend span { margin-right: 1rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; vertical-align: middle; margin-right: .3rem; }
ul.steps { margin: .2rem 0; padding-left: 1.2rem; }
`;
