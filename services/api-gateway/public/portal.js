/* The end-user SMS page: live segment counter, send, balance, history, CSV batches. */
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
  function api(url, opts) {
    opts = opts || {};
    opts.credentials = 'same-origin';
    if (opts.method && opts.method !== 'GET')
      opts.headers = Object.assign({ 'x-csrf-token': csrf }, opts.headers || {});
    return fetch(url, opts).then(function (r) {
      if (r.status === 401) {
        location.reload();
        throw new Error('logged out');
      }
      return r.json().then(function (b) {
        if (!r.ok) throw new Error(b.error || r.statusText);
        return b;
      });
    });
  }

  // Live counter: the same rules as the server (sms-counter.js mirrors packages/core).
  function updateCounter() {
    var c = SmsCounter.countSegments($('text').value);
    $('c-encoding').textContent = c.encoding;
    $('c-left').textContent = c.charsLeftInSegment;
    $('c-segments').textContent = c.segments;
    $('c-units').textContent = c.units;
    $('counter').className = 'counter ' + c.encoding.toLowerCase();
  }
  $('text').addEventListener('input', updateCounter);
  updateCounter();

  function refreshBalance() {
    return api('/portal/api/me').then(function (me) {
      $('balance').textContent = Number(me.credit).toFixed(2);
    });
  }
  function refreshHistory() {
    return api('/portal/api/history').then(function (h) {
      var body = document.querySelector('#history tbody');
      var rows = h.messages.map(function (m) {
        var tr = el('tr', { 'data-smsid': m.smsid });
        tr.appendChild(el('td', {}, new Date(m.at).toLocaleString()));
        tr.appendChild(el('td', {}, m.to));
        tr.appendChild(el('td', { class: 'reason' }, m.text === null ? '' : m.text));
        tr.appendChild(el('td', { class: 'num' }, m.segments));
        tr.appendChild(el('td', { class: 'state state-' + m.state, title: m.reason || '' }, m.state));
        tr.appendChild(el('td', { class: 'num' }, m.cost === null ? '' : Number(m.cost).toFixed(4)));
        return tr;
      });
      body.replaceChildren.apply(body, rows);
    });
  }

  function refreshInbox() {
    return api('/portal/api/inbox').then(function (h) {
      var body = document.querySelector('#inbox tbody');
      var rows = h.messages.map(function (m) {
        var tr = el('tr', {});
        tr.appendChild(el('td', {}, new Date(m.at).toLocaleString()));
        tr.appendChild(el('td', {}, m.from));
        tr.appendChild(el('td', {}, m.to));
        tr.appendChild(el('td', { class: 'reason' }, m.text));
        return tr;
      });
      body.replaceChildren.apply(body, rows);
    });
  }

  $('send-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    $('send').disabled = true;
    $('send-result').textContent = 'sending…';
    api('/portal/api/send', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: $('to').value, from: $('from').value, text: $('text').value }),
    })
      .then(function (r) {
        $('send-result').className = 'ok';
        $('send-result').textContent = 'Queued ' + r.messages.length + ' message(s).';
        $('text').value = '';
        updateCounter();
        return Promise.all([refreshHistory(), refreshBalance()]);
      })
      .catch(function (e) {
        $('send-result').className = 'error';
        $('send-result').textContent = e.message;
      })
      .finally(function () {
        $('send').disabled = false;
      });
  });

  var batchTimer;
  function watchBatch(id) {
    clearTimeout(batchTimer);
    api('/portal/api/batches/' + encodeURIComponent(id))
      .then(function (b) {
        var pctDone = b.total ? Math.round((b.done / b.total) * 100) : 100;
        $('batch-progress').value = pctDone;
        var states = Object.keys(b.states)
          .map(function (k) {
            return k + ' ' + b.states[k];
          })
          .join(', ');
        $('batch-text').textContent =
          b.done +
          ' / ' +
          b.total +
          ' done (' +
          pctDone +
          '%)' +
          (states ? ' — ' + states : '') +
          (b.rejected ? ', ' + b.rejected + ' row(s) rejected' : '');
        if (b.done < b.total)
          batchTimer = setTimeout(function () {
            watchBatch(id);
          }, 1000);
        else {
          refreshHistory();
          refreshBalance();
        }
      })
      .catch(function (e) {
        $('batch-text').textContent = e.message;
      });
  }
  $('csv-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var file = $('csv').files[0];
    if (!file) return;
    $('upload').disabled = true;
    $('batch').hidden = false;
    $('batch-progress').value = 0;
    $('batch-text').textContent = 'uploading…';
    file
      .text()
      .then(function (text) {
        return api('/portal/api/batches', {
          method: 'POST',
          headers: { 'content-type': 'text/csv' },
          body: text,
        });
      })
      .then(function (b) {
        $('batch').setAttribute('data-batch', b.id);
        watchBatch(b.id);
        refreshBalance();
      })
      .catch(function (e) {
        $('batch-text').textContent = e.message;
      })
      .finally(function () {
        $('upload').disabled = false;
      });
  });

  $('logout').addEventListener('click', function () {
    api('/portal/logout', { method: 'POST' }).finally(function () {
      location.reload();
    });
  });
  refreshBalance();
  refreshHistory();
  refreshInbox();
  setInterval(function () {
    refreshHistory().catch(function () {});
    refreshBalance().catch(function () {});
    refreshInbox().catch(function () {});
  }, 2000);
})();
