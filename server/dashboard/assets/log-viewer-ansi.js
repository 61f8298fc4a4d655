// The log viewer's ANSI rendering (a plain ES module, no DOM): a line's SGR colours and styles
// (16, 256 and 24-bit colours, bold, dim, italic, underline, inverse) become escaped HTML spans
// with the classes of log-viewer.css; other escape sequences are dropped, `\r` keeps the last part.
export function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}
function colour256(i) {
  if (i < 16) return null;
  if (i >= 232) { const v = 8 + (i - 232) * 10; return 'rgb(' + v + ',' + v + ',' + v + ')'; }
  const c = i - 16;
  const f = (x) => (x === 0 ? 0 : 55 + x * 40);
  return 'rgb(' + f(Math.floor(c / 36)) + ',' + f(Math.floor(c / 6) % 6) + ',' + f(c % 6) + ')';
}
export function ansiToHtml(raw) {
  let text = raw;
  if (text.indexOf('\r') !== -1) { const parts = text.split('\r').filter((p) => p !== ''); text = parts.length ? parts[parts.length - 1] : ''; }
  if (text.indexOf('\u001b') === -1) return escapeHtml(text);
  const st = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false };
  let out = '';
  const re = /\u001b\[([0-9;:]*)([A-Za-z])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[()][0-9A-Za-z]|\u001b./g;
  let last = 0;
  let m;
  const emit = (s) => {
    if (!s) return;
    const cls = [];
    const style = [];
    let fg = st.fg, bg = st.bg;
    if (st.inverse) { const t = fg; fg = bg === null ? 'inv-bg' : bg; bg = t === null ? 'inv-fg' : t; }
    if (typeof fg === 'number') cls.push('a-fg' + fg); else if (fg === 'inv-bg') cls.push('a-fg-inv'); else if (fg) style.push('color:' + fg);
    if (typeof bg === 'number') cls.push('a-bg' + bg); else if (bg === 'inv-fg') cls.push('a-bg-inv'); else if (bg) style.push('background:' + bg);
    if (st.bold) cls.push('a-b');
    if (st.dim) cls.push('a-d');
    if (st.italic) cls.push('a-i');
    if (st.underline) cls.push('a-u');
    const body = escapeHtml(s);
    out += cls.length || style.length ? '<span' + (cls.length ? ' class="' + cls.join(' ') + '"' : '') + (style.length ? ' style="' + style.join(';') + '"' : '') + '>' + body + '</span>' : body;
  };
  while ((m = re.exec(text))) {
    emit(text.slice(last, m.index));
    last = re.lastIndex;
    if (m[2] !== 'm') continue;
    const codes = (m[1] || '0').split(/[;:]/).map((c) => (c === '' ? 0 : Number(c)));
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c === 0) { st.fg = st.bg = null; st.bold = st.dim = st.italic = st.underline = st.inverse = false; }
      else if (c === 1) st.bold = true;
      else if (c === 2) st.dim = true;
      else if (c === 3) st.italic = true;
      else if (c === 4) st.underline = true;
      else if (c === 7) st.inverse = true;
      else if (c === 22) st.bold = st.dim = false;
      else if (c === 23) st.italic = false;
      else if (c === 24) st.underline = false;
      else if (c === 27) st.inverse = false;
      else if (c >= 30 && c <= 37) st.fg = c - 30;
      else if (c === 39) st.fg = null;
      else if (c >= 40 && c <= 47) st.bg = c - 40;
      else if (c === 49) st.bg = null;
      else if (c >= 90 && c <= 97) st.fg = c - 90 + 8;
      else if (c >= 100 && c <= 107) st.bg = c - 100 + 8;
      else if (c === 38 || c === 48) {
        let value = null;
        if (codes[i + 1] === 5 && i + 2 < codes.length) { const n = codes[i + 2]; value = n < 16 ? n : colour256(n); i += 2; }
        else if (codes[i + 1] === 2 && i + 4 < codes.length) { value = 'rgb(' + codes[i + 2] + ',' + codes[i + 3] + ',' + codes[i + 4] + ')'; i += 4; }
        if (c === 38) st.fg = value; else st.bg = value;
      }
    }
  }
  emit(text.slice(last));
  return out;
}
