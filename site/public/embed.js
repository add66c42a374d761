// embed.js: on a customer's own site, shows a dismissible banner while a public incident or maintenance is active.
// Add it with <script src="https://status.example.com/embed.js" async></script>. It reads /api/v2/summary.json from the
// status page that served it (CORS allows any origin), adds one banner at the top of the page, and remembers a
// dismissal for the rest of the visit, until something new is posted.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src || !window.fetch) return;
  var base = script.src.replace(/embed\.js([?#].*)?$/, '');
  var active = { in_progress: true, verifying: true };

  function dismissedKey(items) {
    return 'status-embed-dismissed:' + items.map(function (i) { return i.id + '@' + i.updated_at; }).join(',');
  }

  function remembered(key) {
    try { return window.sessionStorage.getItem(key) === '1'; } catch (e) { return false; }
  }

  function remember(key) {
    try { window.sessionStorage.setItem(key, '1'); } catch (e) { /* storage off: dismissed for this page only */ }
  }

  function show(summary) {
    var incidents = (summary.incidents || []).filter(function (i) { return i.status !== 'resolved' && i.status !== 'postmortem'; });
    var maintenance = (summary.scheduled_maintenances || []).filter(function (m) { return active[m.status]; });
    var items = incidents.concat(maintenance);
    if (items.length === 0) return;
    var key = dismissedKey(items);
    if (remembered(key)) return;
    var first = items[0];
    var isIncident = incidents.length > 0;
    var bar = document.createElement('div');
    bar.setAttribute('role', 'region');
    bar.setAttribute('aria-label', 'Service status');
    bar.setAttribute('data-status-embed', '');
    var s = bar.style;
    s.position = 'relative'; s.zIndex = '2147483000'; s.boxSizing = 'border-box'; s.width = '100%';
    s.padding = '10px 48px 10px 16px'; s.font = '15px/1.4 system-ui, -apple-system, Segoe UI, Roboto, sans-serif';
    s.background = isIncident ? '#b42318' : '#2450b5'; s.color = '#fff'; s.overflowWrap = 'anywhere';
    var text = document.createElement('span');
    var label = isIncident ? 'Incident: ' : 'Maintenance in progress: ';
    text.appendChild(document.createTextNode(label));
    var name = document.createElement('bdi');
    name.textContent = first.name;
    text.appendChild(name);
    if (items.length > 1) text.appendChild(document.createTextNode(' (and ' + (items.length - 1) + ' more)'));
    bar.appendChild(text);
    var link = document.createElement('a');
    link.href = first.shortlink || (summary.page && summary.page.url) || base;
    link.textContent = 'View status';
    link.target = '_blank';
    link.rel = 'noopener';
    link.style.color = '#fff'; link.style.marginInlineStart = '12px'; link.style.textDecoration = 'underline';
    bar.appendChild(link);
    var close = document.createElement('button');
    close.type = 'button';
    close.setAttribute('aria-label', 'Dismiss status banner');
    close.textContent = '\u00d7';
    var c = close.style;
    c.position = 'absolute'; c.top = '50%'; c.right = '8px'; c.transform = 'translateY(-50%)'; c.minWidth = '32px'; c.minHeight = '32px';
    c.border = '0'; c.background = 'transparent'; c.color = '#fff'; c.font = '22px/1 sans-serif'; c.cursor = 'pointer';
    close.addEventListener('click', function () {
      remember(key);
      bar.remove();
    });
    bar.appendChild(close);
    document.body.insertBefore(bar, document.body.firstChild);
  }

  function start() {
    window.fetch(base + 'api/v2/summary.json', { credentials: 'omit' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (summary) { if (summary) show(summary); })
      .catch(function () { /* the status page is out of reach: show nothing */ });
  }

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
