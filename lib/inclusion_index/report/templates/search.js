// Filter #la-list as the reader types. The query is normalised as profiles.search_key
// normalises each LA's data-key: lower case, "&" as "and", punctuation dropped, spaces collapsed.
document.getElementById('la-search').addEventListener('input', function (e) {
  var q = e.target.value.toLowerCase().replace(/&/g, ' and ').replace(/[^a-z0-9 ]/g, '')
    .replace(/\s+/g, ' ').trim();
  var n = 0;
  document.querySelectorAll('#la-list li').forEach(function (li) {
    var hit = li.dataset.key.indexOf(q) >= 0;
    li.style.display = hit ? '' : 'none';
    if (hit) { n++; }
  });
  document.getElementById('la-none').hidden = n > 0;
});
