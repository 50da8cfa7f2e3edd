// Team documentation server: serves the Markdown pages in ./pages as HTML.
//
// Node's standard library only, so `npm install` needs nothing from a registry
// (the image build runs without network). Port from $PORT, default 3000.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

const PORT = Number(process.env.PORT || 3000);
const PAGES_DIR = path.join(__dirname, 'pages');

// Pages are read once at start: the set of names is fixed, so a request can
// only ever name one of them (no path from the URL reaches the filesystem).
function loadPages(dir) {
  const pages = new Map();
  for (const file of fs.readdirSync(dir).sort()) {
    if (!file.endsWith('.md')) continue;
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const title = (text.match(/^# (.+)$/m) || [null, file])[1];
    pages.set(file.slice(0, -3), { title, text });
  }
  return pages;
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// Inline Markdown: `code`, **bold**, [text](link). Escaped first, so page text can't inject HTML.
function inline(s) {
  return escapeHtml(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>');
}

// Block Markdown: headings, fenced code, bullet lists and paragraphs; enough for team notes.
function markdown(text) {
  const out = [];
  let list = false, code = false, para = [];
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join(' '))}</p>`);
    if (list) out.push('</ul>');
    para = []; list = false;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) { flush(); out.push(code ? '</pre>' : '<pre>'); code = !code; continue; }
    if (code) { out.push(escapeHtml(line)); continue; }
    const h = line.match(/^(#{1,3}) (.*)$/);
    const li = line.match(/^[-*] (.*)$/);
    if (h) { flush(); out.push(`<h${h[1].length}>${inline(h[2])}</h${h[1].length}>`); }
    else if (li) { if (para.length) flush(); if (!list) { out.push('<ul>'); list = true; } out.push(`<li>${inline(li[1])}</li>`); }
    else if (!line.trim()) flush();
    else para.push(line.trim());
  }
  flush();
  if (code) out.push('</pre>');
  return out.join('\n');
}

function layout(title, pages, body) {
  const nav = [...pages].map(([name, p]) => `<li><a href="/${name === 'index' ? '' : name}">${escapeHtml(p.title)}</a></li>`);
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<nav><ul>
${nav.join('\n')}
</ul></nav>
<main>
${body}
</main>
</body></html>
`;
}

function handler(pages) {
  return (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const name = url.pathname === '/' ? 'index' : url.pathname.slice(1).replace(/\.html$/, '');
    const page = pages.get(name);
    const status = page ? 200 : 404;
    const html = page
      ? layout(page.title, pages, markdown(page.text))
      : layout('Not found', pages, `<h1>Not found</h1>\n<p>No page named ${escapeHtml(url.pathname)}.</p>`);
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : html);
    console.log(`${new Date().toISOString()} ${req.method} ${url.pathname} ${status}`);
  };
}

function main() {
  const pages = loadPages(PAGES_DIR);
  const server = http.createServer(handler(pages));
  server.listen(PORT, () => console.log(`team-documentation: serving ${pages.size} pages on port ${PORT}`));
  // In a container this may be PID 1, which gets no default signal handlers:
  // exit on TERM/INT so `stop` is quick instead of waiting for the kill timeout.
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}

if (require.main === module) main();
module.exports = { markdown, loadPages };
