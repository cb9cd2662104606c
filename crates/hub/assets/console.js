// The console's few behaviours: confirmations, token countdowns in the server's time, copy
// buttons, the earnings chart's hover card, and reloading while a sync runs.
(function () {
  'use strict';
  var body = document.body;
  // A page reached with a secret in its address (a platform's token) drops the query from the
  // address bar and history before anything else.
  if (window.location.search && document.querySelector('[data-clean-url]')) {
    window.history.replaceState(null, '', window.location.pathname);
  }
  var skew = Number(body.dataset.now || Date.now()) - Date.now();

  document.addEventListener('submit', function (event) {
    var message = event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // Units and words from the page's catalog: `d|h|min|s`, `天|小时|分|秒`.
  var units = (body.dataset.units || 'd|h|min|s').split('|');
  function countdown(left) {
    var d = Math.floor(left / 864e5), h = Math.floor(left % 864e5 / 36e5);
    var m = Math.floor(left % 36e5 / 6e4), s = Math.floor(left % 6e4 / 1e3);
    if (d) return d + ' ' + units[0] + ' ' + h + ' ' + units[1];
    if (h) return h + ' ' + units[1] + ' ' + m + ' ' + units[2];
    return m + ' ' + units[2] + ' ' + s + ' ' + units[3];
  }
  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll('[data-expires]').forEach(function (el) {
      var left = Number(el.dataset.expires) - now;
      el.textContent = left > 0 ? countdown(left) : body.dataset.expired;
    });
  }
  tick();
  setInterval(tick, 1000);

  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-copy]');
    if (!button || !navigator.clipboard) return;
    navigator.clipboard.writeText(button.dataset.copy).then(function () {
      var label = button.textContent;
      button.textContent = body.dataset.copied;
      setTimeout(function () { button.textContent = label; }, 1500);
    }, function () {});
  });

  var chart = document.querySelector('.chart');
  if (chart) {
    var tip = chart.querySelector('.tooltip');
    var show = function (day) {
      var labels = chart.dataset;
      tip.innerHTML = '';
      var add = function (text, strong) {
        var line = document.createElement(strong ? 'strong' : 'div');
        line.textContent = text;
        tip.appendChild(line);
      };
      add(day.dataset.day, true);
      add(labels.commission + ': ¥' + day.dataset.commission);
      add(labels.deduction + ': ¥' + day.dataset.deduction);
      add(labels.net + ': ¥' + day.dataset.net);
      var box = day.getBoundingClientRect(), frame = chart.getBoundingClientRect();
      tip.hidden = false;
      var left = box.left - frame.left + box.width / 2 - tip.offsetWidth / 2;
      tip.style.left = Math.max(0, Math.min(left, frame.width - tip.offsetWidth)) + 'px';
      tip.style.top = '0px';
    };
    chart.querySelectorAll('.day').forEach(function (day) {
      day.addEventListener('mouseenter', function () { show(day); });
      day.addEventListener('focus', function () { show(day); });
      day.addEventListener('mouseleave', function () { tip.hidden = true; });
      day.addEventListener('blur', function () { tip.hidden = true; });
    });
  }

  if (document.querySelector('[data-live]')) {
    // Without the query: a notice that started the wait is not shown again.
    setTimeout(function () { window.location.replace(window.location.pathname); }, 2000);
  }
})();
