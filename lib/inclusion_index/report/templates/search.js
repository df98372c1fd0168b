// Filter #la-list as the reader types. The query is normalised as profiles.search_key
// normalises each LA's data-key: lower case, "&" as "and", hyphens as spaces, other punctuation
// dropped, "saint" as "st", spaces collapsed; then both are compared with and without spaces,
// so "southend on sea", "Southend-on-Sea" and "southendonsea" find the same LA.
function searchNorm(s) {
  return s.toLowerCase().replace(/&/g, ' and ').replace(/-/g, ' ').replace(/[^a-z0-9 ]/g, '')
    .split(/\s+/).filter(Boolean).map(function (w) { return w === 'saint' ? 'st' : w; }).join(' ');
}
document.getElementById('la-search').addEventListener('input', function (e) {
  var q = searchNorm(e.target.value);
  var compact = q.replace(/ /g, '');
  var n = 0;
  document.querySelectorAll('#la-list li').forEach(function (li) {
    var key = li.dataset.key;
    var hit = key.indexOf(q) >= 0 || key.replace(/ /g, '').indexOf(compact) >= 0;
    li.style.display = hit ? '' : 'none';
    if (hit) { n++; }
  });
  document.getElementById('la-none').hidden = n > 0;
});
