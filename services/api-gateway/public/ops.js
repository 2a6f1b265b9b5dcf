/* The ops dashboard: polls /ops/api/state every second and renders it; queue actions via POST. */
(function () {
  'use strict';
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var $ = function (id) {
    return document.getElementById(id);
  };
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function fmt(n, digits) {
    if (n === null || n === undefined) return '–';
    return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits === undefined ? 1 : digits });
  }
  function pct(x) {
    return x === null || x === undefined ? '–' : (x * 100).toFixed(1) + '%';
  }
  function ms(x) {
    if (x === null || x === undefined) return '–';
    return x >= 1000 ? (x / 1000).toFixed(x >= 10000 ? 0 : 1) + ' s' : x + ' ms';
  }
  function spark(svg, values) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var max = Math.max.apply(null, values.concat([1]));
    var pts = values.map(function (v, i) {
      return ((i / Math.max(1, values.length - 1)) * 120).toFixed(1) + ',' + (29 - (v / max) * 27).toFixed(1);
    });
    var line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', pts.join(' '));
    svg.appendChild(line);
  }
  function post(url, body) {
    var headers = { 'x-csrf-token': csrf };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(url, {
      method: 'POST',
      headers: headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (b) {
        if (!r.ok) throw new Error(b.error || r.statusText);
        return b;
      });
    });
  }
  function action(id, what) {
    $('message').textContent = '';
    post('/ops/api/gateways/' + id + '/' + what)
      .then(function (b) {
        loadAudit();
        $('message').textContent =
          'Gateway ' +
          id +
          ': ' +
          what +
          ' done' +
          (b.retried !== undefined ? ' (' + b.retried + ' chunks)' : '') +
          '.';
        refresh();
      })
      .catch(function (e) {
        $('message').textContent = 'Gateway ' + id + ': ' + e.message;
      });
  }
  function render(s) {
    var t = s.totals;
    $('t-pending').textContent = fmt(t.pendingMessages, 0);
    $('t-chunks').textContent =
      fmt(t.waitingChunks, 0) + ' / ' + fmt(t.activeChunks, 0) + ' / ' + fmt(t.delayedChunks, 0);
    $('t-rate').textContent = fmt(t.rateNow);
    $('t-accepted').textContent = fmt(t.acceptedRateNow);
    $('t-delivery').textContent = pct(t.deliveredRate) + ' / ' + pct(t.okRate);
    $('t-latency').textContent = ms(t.e2eP50Ms) + ' / ' + ms(t.e2eP95Ms);
    $('t-failed').textContent = fmt(t.failedChunks, 0);
    spark($('t-spark'), t.spark);
    var body = document.querySelector('#gateways tbody');
    var rows = s.gateways.map(function (g) {
      var tr = el('tr', { 'data-gateway': g.id });
      tr.appendChild(el('td', {}, g.name + ' (#' + g.id + ')'));
      var q = el('td');
      q.appendChild(
        el(
          'span',
          { class: 'badge ' + (g.paused ? 'paused' : 'running'), 'data-field': 'queue-state' },
          g.paused ? 'paused' : 'running',
        ),
      );
      tr.appendChild(q);
      tr.appendChild(el('td', { class: 'num', 'data-field': 'pending' }, fmt(g.pendingMessages, 0)));
      tr.appendChild(
        el(
          'td',
          { class: 'num', 'data-field': 'chunks' },
          [g.jobs.waiting + g.jobs.prioritized, g.jobs.active, g.jobs.delayed, g.jobs.failed].join(' / '),
        ),
      );
      tr.appendChild(el('td', { class: 'num', 'data-field': 'rate' }, fmt(g.rateNow)));
      var sp = el('td');
      var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      svg.setAttribute('class', 'spark');
      svg.setAttribute('viewBox', '0 0 120 30');
      svg.setAttribute('preserveAspectRatio', 'none');
      spark(svg, g.spark);
      sp.appendChild(svg);
      tr.appendChild(sp);
      tr.appendChild(
        el(
          'td',
          { class: 'num', 'data-field': 'delivery' },
          pct(g.window.deliveredRate) + ' / ' + pct(g.window.okRate),
        ),
      );
      tr.appendChild(el('td', { class: 'num' }, ms(g.window.e2eP50Ms) + ' / ' + ms(g.window.e2eP95Ms)));
      tr.appendChild(
        el('td', { class: 'num' }, ms(g.window.providerP50Ms) + ' / ' + ms(g.window.providerP95Ms)),
      );
      tr.appendChild(
        el('td', { class: 'num' }, g.smpp ? g.smpp.bindsUp + ' (' + g.smpp.windowInUse + ')' : '–'),
      );
      var c = el('td');
      c.appendChild(
        el('span', { class: 'badge ' + g.circuit.state, title: g.circuit.reason }, g.circuit.state),
      );
      tr.appendChild(c);
      var a = el('td');
      var pr = el(
        'button',
        { class: 'secondary', 'data-action': g.paused ? 'resume' : 'pause' },
        g.paused ? 'Resume' : 'Pause',
      );
      pr.addEventListener('click', function () {
        action(g.id, g.paused ? 'resume' : 'pause');
      });
      a.appendChild(pr);
      a.appendChild(document.createTextNode(' '));
      var rf = el('button', { class: 'secondary', 'data-action': 'retry-failed' }, 'Retry failed');
      rf.disabled = g.jobs.failed === 0;
      rf.addEventListener('click', function () {
        action(g.id, 'retry-failed');
      });
      a.appendChild(rf);
      tr.appendChild(a);
      return tr;
    });
    body.replaceChildren.apply(body, rows);
    var fb = document.querySelector('#failures tbody');
    var frows = s.failures.map(function (f) {
      var tr = el('tr');
      tr.appendChild(el('td', {}, new Date(f.at).toLocaleTimeString()));
      tr.appendChild(el('td', {}, '#' + f.gatewayId));
      tr.appendChild(el('td', {}, f.smsid));
      tr.appendChild(el('td', { class: 'bad' }, f.state));
      tr.appendChild(el('td', { class: 'reason' }, f.reason));
      return tr;
    });
    if (frows.length === 0)
      frows = [el('tr', {}, '')].map(function (tr) {
        tr.appendChild(el('td', { colspan: 5, class: 'muted' }, 'No failures in the last hour.'));
        return tr;
      });
    fb.replaceChildren.apply(fb, frows);
    $('updated').textContent = 'updated ' + new Date(s.now).toLocaleTimeString();
  }
  var timer;
  function refresh() {
    clearTimeout(timer);
    fetch('/ops/api/state', { credentials: 'same-origin' })
      .then(function (r) {
        if (r.status === 401) {
          location.reload();
          throw new Error('logged out');
        }
        if (r.status === 403) throw new Error('this account may no longer use the ops page');
        return r.json();
      })
      .then(render)
      .catch(function (e) {
        $('updated').textContent = 'update failed: ' + e.message;
      })
      .finally(function () {
        timer = setTimeout(refresh, 1000);
      });
  }
  function loadAudit() {
    fetch('/ops/api/audit?limit=20', { credentials: 'same-origin' })
      .then(function (r) {
        return r.ok ? r.json() : { entries: [] };
      })
      .then(function (b) {
        var rows = b.entries.map(function (e) {
          var tr = el('tr');
          tr.appendChild(el('td', {}, new Date(e.at).toLocaleString()));
          tr.appendChild(el('td', {}, e.actor));
          tr.appendChild(el('td', {}, e.source));
          tr.appendChild(el('td', {}, e.action));
          tr.appendChild(el('td', {}, e.target));
          tr.appendChild(el('td', { class: 'reason' }, JSON.stringify(e.details)));
          tr.appendChild(el('td', {}, e.remoteAddr || ''));
          return tr;
        });
        if (rows.length === 0) {
          var tr = el('tr');
          tr.appendChild(el('td', { colspan: 7, class: 'muted' }, 'No admin actions yet.'));
          rows = [tr];
        }
        var tb = document.querySelector('#audit tbody');
        tb.replaceChildren.apply(tb, rows);
      })
      .catch(function () {});
  }
  function adminForm(id, url, body, done) {
    $(id).addEventListener('submit', function (ev) {
      ev.preventDefault();
      $('message').textContent = '';
      post(url, body())
        .then(function (b) {
          $('message').textContent = done(b);
          loadAudit();
        })
        .catch(function (e) {
          $('message').textContent = e.message;
        });
    });
  }
  adminForm(
    'config-form',
    '/ops/api/config',
    function () {
      return { key: $('config-key').value, value: $('config-value').value };
    },
    function (b) {
      return 'Config ' + b.key + ' = ' + b.value + '.';
    },
  );
  adminForm(
    'credit-form',
    '/ops/api/credit',
    function () {
      return { user: $('credit-user').value, add: $('credit-add').value };
    },
    function (b) {
      return 'Credit of ' + b.user + ' is now ' + b.credit + '.';
    },
  );
  loadAudit();
  setInterval(loadAudit, 10000);
  $('logout').addEventListener('click', function () {
    post('/ops/logout').finally(function () {
      location.reload();
    });
  });
  refresh();
})();
