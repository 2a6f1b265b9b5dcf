/* The ops dashboard's admin-alerts panel: polls /ops/api/alerts every 5 s (alerts are rare). */
(function () {
  'use strict';
  var body = document.querySelector('#alerts tbody');
  var info = document.getElementById('alerts-config');
  if (!body || !info) return;
  function cell(tr, text, cls) {
    var td = document.createElement('td');
    if (cls) td.className = cls;
    td.textContent = String(text);
    tr.appendChild(td);
  }
  function render(s) {
    var t = s.thresholds;
    info.textContent =
      (s.numbers ? s.numbers + ' admin number(s)' : 'No admin numbers (smsalertnumbers): alerts are off') +
      ' · via ' +
      (s.gateway ? 'gateway ' + s.gateway : 'routing') +
      ' · queue ≥ ' +
      (t.queueDepth || 'off') +
      ' · billing lag ≥ ' +
      (t.billingLagSeconds ? t.billingLagSeconds + ' s' : 'off') +
      ' · delivery < ' +
      (t.deliveryRatePercent ? t.deliveryRatePercent + '%' : 'off') +
      ' · repeat ' +
      t.repeatSeconds +
      ' s';
    var rows = s.alerts.map(function (a) {
      var tr = document.createElement('tr');
      cell(tr, new Date(a.at).toLocaleString());
      cell(tr, a.kind, 'bad');
      cell(tr, a.subject);
      cell(tr, a.text, 'reason');
      cell(tr, a.error ? 'not sent: ' + a.error : a.to.join(', '), a.error ? 'bad' : '');
      return tr;
    });
    if (rows.length === 0) {
      var tr = document.createElement('tr');
      var td = document.createElement('td');
      td.colSpan = 5;
      td.className = 'muted';
      td.textContent = 'No alerts.';
      tr.appendChild(td);
      rows = [tr];
    }
    body.replaceChildren.apply(body, rows);
  }
  function refresh() {
    fetch('/ops/api/alerts', { credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) throw new Error(r.statusText);
        return r.json();
      })
      .then(render)
      .catch(function (e) {
        info.textContent = 'alerts not loaded: ' + e.message;
      })
      .finally(function () {
        setTimeout(refresh, 5000);
      });
  }
  refresh();
})();
