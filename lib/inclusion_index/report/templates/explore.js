// "Your own index" (issue 14): re-rank the LAs under the reader's area grades.
// The computation is index/weightings.py ranks_for_grades, written again for the browser;
// tests/test_explore.py holds the two equal for every LA. Keep them in step:
// - an area's weight is its grade (0-5) over the sum of the grades;
// - an LA's score is the weighted mean of the area scores it has (weights renormalised over
//   them); an LA none of whose areas weighs anything has no score and no rank;
// - scores are rounded to 9 decimals (numpy's round: half to even) before ranking, so that
//   floating-point noise does not split a real tie, and ties share the best rank ("min");
// - "indicators" is the headline method: the published overall score, ranked the same way.
// The weighting lives in the URL fragment, #weights=E,A,P,T or #weights=indicators.
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('explore-data').textContent);
  var AREAS = DATA.areas;  // [[key, name], ...] in the fragment's order
  var HEADLINE = 'indicators';
  var MAX = DATA.max_grade;
  var rows = {};
  document.querySelectorAll('#explore-table tbody tr').forEach(function (tr) { rows[tr.dataset.laCode] = tr; });
  var tbody = document.querySelector('#explore-table tbody');
  var status = document.getElementById('explore-status');
  var headlineRadio = document.getElementById('mode-indicators');
  var gradesRadio = document.getElementById('mode-grades');
  var sliders = AREAS.map(function (a) { return document.getElementById('grade-' + a[0]); });
  var dots = {};
  document.querySelectorAll('#explore-chart circle[data-la-code]').forEach(function (c) { dots[c.dataset.laCode] = c; });
  var COLOURS = DATA.colours;  // one per fifth of the ranking, best first
  var highlighted = null;
  window.exploreTimings = [];  // ms per re-rank, read by tests/test_explore.py (performance.now)

  function round9(x) {  // numpy's round(x, 9): scale, round half to even, scale back
    var y = x * 1e9;
    var r = Math.round(y);
    if (r - y === 0.5 && r % 2 !== 0) { r -= 1; }
    return r / 1e9;
  }

  function scoresFor(weights) {  // code -> score, or null where the LA has no score
    var out = {};
    if (weights === HEADLINE) {
      DATA.las.forEach(function (la) { out[la.code] = la.overall; });
      return out;
    }
    var total = weights.reduce(function (s, g) { return s + g; }, 0);
    DATA.las.forEach(function (la) {
      if (la.overall === null || total === 0) { out[la.code] = null; return; }
      var num = 0, den = 0;
      for (var i = 0; i < AREAS.length; i++) {
        if (la.areas[i] !== null) { num += (weights[i] / total) * la.areas[i]; den += weights[i] / total; }
      }
      out[la.code] = den > 0 ? num / den : null;
    });
    return out;
  }

  function ranksFor(scores) {  // ties share the lowest rank number ("min")
    var scored = DATA.las.filter(function (la) { return scores[la.code] !== null; })
      .map(function (la) { return {code: la.code, s: round9(scores[la.code])}; });
    scored.sort(function (a, b) { return b.s - a.s; });
    var ranks = {};
    scored.forEach(function (x, i) {
      ranks[x.code] = (i > 0 && x.s === scored[i - 1].s) ? ranks[scored[i - 1].code] : i + 1;
    });
    return ranks;
  }

  function parseFragment(hash) {  // the weights in "#weights=...", or null when there are none
    var text;
    try { text = decodeURIComponent(hash || ''); } catch (e) { return null; }  // a malformed %-escape
    var m = /^#?weights=(.*)$/.exec(text);
    if (!m) { return null; }
    if (m[1] === HEADLINE) { return HEADLINE; }
    var parts = m[1].split(',');
    if (parts.length !== AREAS.length || !parts.every(function (p) { return /^[0-5]$/.test(p); })) { return null; }
    return parts.map(Number);
  }

  function fragmentFor(weights) {
    return '#weights=' + (weights === HEADLINE ? HEADLINE : weights.join(','));
  }

  function currentWeights() {
    return headlineRadio.checked ? HEADLINE : sliders.map(function (s) { return Number(s.value); });
  }

  function ordinal(n) {
    var s = ['th', 'st', 'nd', 'rd'], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }

  function describe(weights) {
    if (weights === HEADLINE) {
      return 'Ranked by the headline method: equal weight per indicator (' + DATA.headline_words + ').';
    }
    var total = weights.reduce(function (s, g) { return s + g; }, 0);
    if (total === 0) {
      return 'All four grades are 0, so no local authority has a score: give at least one area a grade.';
    }
    return 'Ranked by your grades: ' + AREAS.map(function (a, i) {
      return a[1] + ' ' + weights[i] + ' (' + Math.round(100 * weights[i] / total) + '%)';
    }).join(', ') + '.';
  }

  function fmt(x) { return x === null ? '–' : x.toFixed(1); }

  function xFor(score) { return DATA.chart.left + (score - DATA.chart.lo) * DATA.chart.width / (DATA.chart.hi - DATA.chart.lo); }

  function colourFor(rank, n) { return COLOURS[Math.min(COLOURS.length - 1, Math.floor((rank - 1) * COLOURS.length / n))]; }

  function apply(weights, writeUrl) {
    var t0 = performance.now();
    headlineRadio.checked = weights === HEADLINE;
    gradesRadio.checked = weights !== HEADLINE;
    if (weights !== HEADLINE) {
      sliders.forEach(function (s, i) { s.value = weights[i]; });
    }
    sliders.forEach(function (s) { document.getElementById(s.id + '-value').textContent = s.value; });
    var scores = scoresFor(weights);
    var ranks = ranksFor(scores);
    var n = Object.keys(ranks).length;
    var order = DATA.las.slice().sort(function (a, b) {
      var ra = ranks[a.code] === undefined ? Infinity : ranks[a.code];
      var rb = ranks[b.code] === undefined ? Infinity : ranks[b.code];
      return ra - rb || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    });
    var frag = document.createDocumentFragment();
    order.forEach(function (la) {
      var tr = rows[la.code];
      var r = ranks[la.code];
      tr.querySelector('td.rank').textContent = r === undefined ? '–' : String(r);
      tr.querySelector('td.score').textContent = fmt(scores[la.code] === undefined ? null : scores[la.code]);
      frag.appendChild(tr);
      var dot = dots[la.code];
      if (dot) {
        if (r === undefined) { dot.setAttribute('visibility', 'hidden'); } else {
          dot.removeAttribute('visibility');
          dot.setAttribute('cx', xFor(scores[la.code]).toFixed(1));
          dot.setAttribute('fill', colourFor(r, n));
          dot.querySelector('title').textContent = la.name + ': ' + ordinal(r) + ' of ' + n + ', score ' + fmt(scores[la.code]);
        }
      }
    });
    tbody.appendChild(frag);
    var text = describe(weights);
    if (highlighted && ranks[highlighted] !== undefined) {
      text += ' ' + DATA.names[highlighted] + ' is ' + ordinal(ranks[highlighted]) + ' of ' + n + '.';
    }
    status.textContent = text;
    if (writeUrl) {
      var frg = fragmentFor(weights);
      if (location.hash !== frg) {
        try { history.replaceState(null, '', frg); } catch (e) { location.hash = frg; }
      }
    }
    window.exploreTimings.push(performance.now() - t0);
  }

  // ---- search: highlight the first LA whose name, alias or code matches (as templates/search.js)
  function searchNorm(s) {
    return s.toLowerCase().replace(/&/g, ' and ').replace(/-/g, ' ').replace(/[^a-z0-9 ]/g, '')
      .split(/\s+/).filter(Boolean).map(function (w) { return w === 'saint' ? 'st' : w; }).join(' ');
  }
  function highlight(code) {
    if (highlighted) {
      rows[highlighted].classList.remove('hl');
      if (dots[highlighted]) { dots[highlighted].classList.remove('hl'); }
    }
    highlighted = code;
    var msg = document.getElementById('search-result');
    if (!code) { msg.textContent = ''; return; }
    rows[code].classList.add('hl');
    if (dots[code]) { dots[code].classList.add('hl'); dots[code].parentNode.appendChild(dots[code]); }
    var rank = rows[code].querySelector('td.rank').textContent;
    msg.textContent = DATA.names[code] + ' is highlighted in the table and the chart' +
      (rank === '–' ? ' (no rank under this weighting).' : ': ranked ' + rank + '.');
    rows[code].scrollIntoView({block: 'center'});
  }
  document.getElementById('explore-search').addEventListener('input', function (e) {
    var q = searchNorm(e.target.value), compact = q.replace(/ /g, '');
    if (!q) { highlight(null); return; }
    var hit = DATA.las.filter(function (la) {
      return la.key.indexOf(q) >= 0 || la.key.replace(/ /g, '').indexOf(compact) >= 0;
    })[0];
    if (hit) { highlight(hit.code); } else {
      highlight(null);
      document.getElementById('search-result').textContent = 'No local authority matches that search.';
    }
  });

  // ---- controls: moving a grade switches to "my grades"; the URL follows every change
  sliders.forEach(function (s) {
    s.addEventListener('input', function () { gradesRadio.checked = true; apply(currentWeights(), true); });
  });
  [headlineRadio, gradesRadio].forEach(function (r) {
    r.addEventListener('change', function () { apply(currentWeights(), true); });
  });
  window.addEventListener('hashchange', function () {
    var w = parseFragment(location.hash);
    if (w !== null) { apply(w, false); }
  });
  document.getElementById('explore-form').addEventListener('submit', function (e) { e.preventDefault(); });

  var initial = parseFragment(location.hash);
  apply(initial === null ? HEADLINE : initial, false);
  if (location.hash && initial === null) {
    status.textContent = 'The link\'s weights were not understood (use #weights=E,A,P,T with grades 0-' + MAX +
      ', or #weights=indicators); showing the headline method. ' + status.textContent;
  }
  document.documentElement.dataset.exploreReady = '1';
}());
