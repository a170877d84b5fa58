// `mqttspec compare A/results.json B/results.json ... --out DIR`: several brokers' runs side by
// side. compare.html is one self-contained page (no external resources): per-broker totals, every
// scenario as a row grouped by section with one verdict cell per broker that links to that
// broker's failure details (embedded), a per-statement summary (worst verdict per broker), and a
// filter by verdict and text. Opened with #selftest, the page checks its own filters and links and
// writes the outcome into <output id="selftest"> (for headless browser tests). compare.md holds
// the same tables in markdown.
#include "mqttspec/conformance/stored_results.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <unordered_map>

namespace mqttspec::conformance {
namespace {

constexpr verdict all_verdicts[] = {verdict::pass,          verdict::fail,        verdict::non_strict,
                                    verdict::informational, verdict::unsupported, verdict::error};

std::string esc(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += (c < 0x20 && c != '\n' && c != '\t') ? '?' : static_cast<char>(c);
    }
  }
  return out;
}

std::string md(std::string_view s, std::size_t max = std::string::npos) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  if (out.size() > max) out = out.substr(0, max) + "...";
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// "3.10.2" after "3.9": numeric parts compare as numbers.
bool section_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const auto ei = a.find('.', i), ej = b.find('.', j);
    const auto pa = a.substr(i, ei == std::string::npos ? std::string::npos : ei - i);
    const auto pb = b.substr(j, ej == std::string::npos ? std::string::npos : ej - j);
    if (pa != pb) {
      const bool na = !pa.empty() && pa.find_first_not_of("0123456789") == std::string::npos && pa.size() < 9;
      const bool nb = !pb.empty() && pb.find_first_not_of("0123456789") == std::string::npos && pb.size() < 9;
      if (na && nb) return std::stoul(pa) < std::stoul(pb);
      return pa < pb;
    }
    if (ei == std::string::npos || ej == std::string::npos) return ei == std::string::npos && ej != std::string::npos;
    i = ei + 1;
    j = ej + 1;
  }
  return a.size() < b.size();
}

struct column {
  std::string name;
  std::unique_ptr<stored_run> run;
  std::unordered_map<std::string, const scenario_result*> by_id;
  std::size_t findings = 0;
};

struct row {
  const scenario* sc = nullptr;  // as the first column that has it describes it
  std::vector<const scenario_result*> cells;  // per column; null: not in that run
  std::size_t first_seen = 0;
  bool differ() const {
    std::set<std::string> seen;
    for (const auto* c : cells) seen.insert(c ? std::string(to_string(c->v)) : "missing");
    return seen.size() > 1;
  }
};

struct statement_row {
  std::string id;
  suite_version version{};
  std::string summary;
  std::vector<std::optional<verdict>> worst;  // per column
  std::vector<std::string> scenarios;
};

std::string cell_class(const scenario_result* r) { return r ? "v-" + std::string(to_string(r->v)) : "v-missing"; }
std::string cell_text(const scenario_result* r) { return r ? std::string(to_string(r->v)) : "missing"; }
bool has_details(const scenario_result* r) { return r && r->v != verdict::pass && r->v != verdict::unsupported; }
// Appended piecewise: g++ 12 at -O3 warns (-Wrestrict, a false positive) on "d" + to_string(col) + ...
std::string detail_id(std::size_t col, const std::string& id) {
  std::string s = "d";
  s += std::to_string(col);
  s += '-';
  s += id;
  return s;
}

void write_page_head(std::ostream& out) {
  out << R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mqttspec comparison</title>
<script>window.mqttspecErrors=[];window.addEventListener("error",function(e){window.mqttspecErrors.push(String(e.message||e));});</script>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;font-size:13px;vertical-align:top}
th.sec{background:#f0f0f0;font-size:14px}
.v-pass{background:#d8f5d8}.v-fail{background:#f8c8c8}.v-non-strict{background:#fde8b0}.v-informational{background:#dde8f8}
.v-unsupported{background:#eee}.v-error{background:#f0a0f0}.v-missing{background:#fff;color:#999}
td.cell a{color:inherit}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}
#filters{position:sticky;top:0;background:#fff;padding:6px 0;border-bottom:1px solid #ccc}
#filters label{margin-right:0.8em;white-space:nowrap}
details{margin:0.4em 0}details:target{outline:2px solid #36c}
.title{color:#555}
</style></head><body>
)HTML";
}

// Filters, links into closed <details>, and the self-test. Plain ES5, no dependencies.
constexpr const char* page_script = R"JS(<script>
(function(){
  var verdictBoxes = Array.prototype.slice.call(document.querySelectorAll("#filters input.verdict"));
  var differBox = document.getElementById("filter-differ");
  var textBox = document.getElementById("filter-text");
  function wanted() {
    var w = {};
    verdictBoxes.forEach(function(b){ if (b.checked) w[b.value] = true; });
    return w;
  }
  function rowMatches(tr, w, text, differOnly) {
    var vs = tr.getAttribute("data-verdicts").split(" ");
    if (!vs.some(function(v){ return w[v]; })) return false;
    if (differOnly && tr.getAttribute("data-differ") !== "1") return false;
    return !text || tr.getAttribute("data-text").indexOf(text) >= 0;
  }
  function apply() {
    var w = wanted(), text = textBox.value.trim().toLowerCase(), differOnly = differBox.checked;
    ["scenarios", "statements"].forEach(function(tableId) {
      var table = document.getElementById(tableId);
      var shown = 0, total = 0, header = null, headerShown = false;
      Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function(tr) {
        if (tr.classList.contains("group")) {
          if (header) header.hidden = !headerShown;
          header = tr; headerShown = false;
          return;
        }
        total++;
        var ok = rowMatches(tr, w, text, differOnly);
        tr.hidden = !ok;
        if (ok) { shown++; headerShown = true; }
      });
      if (header) header.hidden = !headerShown;
      document.getElementById(tableId + "-shown").textContent = shown + " of " + total + " shown";
    });
  }
  function openTarget(id) {
    var el = document.getElementById(id);
    if (!el) return false;
    if (el.tagName === "DETAILS") el.open = true;
    return true;
  }
  verdictBoxes.forEach(function(b){ b.addEventListener("change", apply); });
  differBox.addEventListener("change", apply);
  textBox.addEventListener("input", apply);
  document.getElementById("filter-reset").addEventListener("click", function() {
    verdictBoxes.forEach(function(b){ b.checked = true; });
    differBox.checked = false; textBox.value = ""; apply();
  });
  window.addEventListener("hashchange", function(){ openTarget(decodeURIComponent(location.hash.slice(1))); });
  if (location.hash.length > 1) openTarget(decodeURIComponent(location.hash.slice(1)));
  apply();
  window.mqttspecCompare = {apply: apply, openTarget: openTarget};
})();
</script>
<script>
// The page's self-test: runs when the page is opened with #selftest; the outcome goes into
// <output id="selftest">, for a headless browser's --dump-dom. It waits for "load", so that an error
// in any script of the page is reported.
window.addEventListener("load", function(){
  if (location.hash !== "#selftest") return;
  var out = document.getElementById("selftest"), problems = [], checks = 0;
  function check(cond, what) { checks++; if (!cond) problems.push(what); }
  try {
    var api = window.mqttspecCompare;
    check(!!api, "the page script did not run");
    var rows = Array.prototype.slice.call(document.querySelectorAll("#scenarios tbody tr:not(.group)"));
    var boxes = Array.prototype.slice.call(document.querySelectorAll("#filters input.verdict"));
    var differ = document.getElementById("filter-differ"), text = document.getElementById("filter-text");
    function visible() { return rows.filter(function(r){ return !r.hidden; }); }
    function reset() { boxes.forEach(function(b){ b.checked = true; }); differ.checked = false; text.value = ""; api.apply(); }
    check(rows.length > 0, "no scenario rows");
    reset();
    check(visible().length === rows.length, "not every row is shown without a filter");
    boxes.forEach(function(only) {
      boxes.forEach(function(b){ b.checked = b === only; });
      api.apply();
      var expect = rows.filter(function(r){ return r.getAttribute("data-verdicts").split(" ").indexOf(only.value) >= 0; });
      check(visible().length === expect.length, "verdict filter " + only.value + ": " + visible().length + " rows shown, " + expect.length + " have it");
      check(visible().every(function(r){ return r.querySelector("td.v-" + only.value); }), "verdict filter " + only.value + " shows a row without it");
    });
    reset();
    differ.checked = true; api.apply();
    check(visible().every(function(r){ return r.getAttribute("data-differ") === "1"; }), "'differ' shows a row where all agree");
    check(visible().length === rows.filter(function(r){ return r.getAttribute("data-differ") === "1"; }).length, "'differ' hides a row that differs");
    reset();
    var probe = rows[rows.length - 1].getAttribute("data-id");
    text.value = probe.toUpperCase(); api.apply();
    check(visible().indexOf(rows[rows.length - 1]) >= 0, "text filter hides the row it names");
    check(visible().every(function(r){ return r.getAttribute("data-text").indexOf(probe.toLowerCase()) >= 0; }), "text filter shows a row without the text");
    text.value = "no such scenario, surely"; api.apply();
    check(visible().length === 0, "a text nothing has still shows rows");
    check(document.querySelectorAll("#scenarios tbody tr.group:not([hidden])").length === 0, "section rows stay with no row under them");
    reset();
    Array.prototype.forEach.call(document.querySelectorAll("a.cell"), function(a) {
      var id = decodeURIComponent(a.getAttribute("href").slice(1));
      var target = document.getElementById(id);
      check(!!target && target.tagName === "DETAILS", "link " + id + " has no failure details");
      if (target) { target.open = false; api.openTarget(id); check(target.open, "link " + id + " does not open its details"); }
    });
    check(document.getElementById("statements").querySelectorAll("tbody tr").length > 0, "no statement rows");
  } catch (e) {
    problems.push("exception: " + e);
  }
  (window.mqttspecErrors || []).forEach(function(e){ problems.push("script error: " + e); });
  out.textContent = problems.length ? "selftest: FAILED: " + problems.join("; ") : "selftest: ok (" + checks + " checks)";
});
</script>
)JS";

}  // namespace

int compare_command(const compare_request& req, std::ostream& out, std::ostream& err) {
  if (req.inputs.empty()) {
    err << "mqttspec: compare needs at least one results.json\n";
    return 2;
  }
  if (!req.names.empty() && req.names.size() != req.inputs.size()) {
    err << "mqttspec: --names gives " << req.names.size() << " names for " << req.inputs.size() << " results\n";
    return 2;
  }
  // The catalogs give statements their summaries and order; the comparison works without them.
  catalog cat;
  const bool have_catalog = req.paths && !catalog::load(req.paths->statements, cat);

  std::vector<column> cols;
  for (std::size_t i = 0; i < req.inputs.size(); ++i) {
    column c;
    c.run = std::make_unique<stored_run>();
    if (auto e = read_results(req.inputs[i], nullptr, *c.run)) {
      err << "mqttspec: " << *e << "\n";
      return 2;
    }
    if (!req.names.empty()) {
      c.name = req.names[i];
    } else {
      const auto& p = req.inputs[i];
      const auto parent = std::filesystem::absolute(p).lexically_normal().parent_path().filename().string();
      c.name = p.filename() == "results.json" && !parent.empty() ? parent : p.stem().string();
    }
    for (const auto& r : c.run->summary.results) c.by_id.emplace(r.sc->id, &r);
    c.findings = group_findings(c.run->summary.results).size();
    cols.push_back(std::move(c));
  }
  // Names are column headers and anchors' text: make them distinct.
  for (std::size_t i = 0; i < cols.size(); ++i) {
    int n = 1;
    for (std::size_t j = 0; j < i; ++j)
      if (cols[j].name == cols[i].name) cols[i].name += " (" + std::to_string(++n) + ")";
  }

  // Rows: the union of the scenarios, by version, section, then first seen.
  std::vector<row> rows;
  std::unordered_map<std::string, std::size_t> row_of;
  for (std::size_t ci = 0; ci < cols.size(); ++ci) {
    for (const auto& r : cols[ci].run->summary.results) {
      auto [it, fresh] = row_of.try_emplace(r.sc->id, rows.size());
      if (fresh) {
        row x;
        x.sc = r.sc;
        x.cells.assign(cols.size(), nullptr);
        x.first_seen = rows.size();
        rows.push_back(std::move(x));
      }
      rows[it->second].cells[ci] = &r;
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const row& a, const row& b) {
    if (a.sc->version != b.sc->version) return a.sc->version < b.sc->version;
    if (a.sc->section != b.sc->section) return section_less(a.sc->section, b.sc->section);
    return a.first_seen < b.first_seen;
  });

  // Statements: the worst verdict each broker got on the scenarios that check it.
  std::map<std::string, statement_row> by_statement;
  for (const auto& x : rows) {
    for (const auto& id : x.sc->statements) {
      auto& st = by_statement[id];
      if (st.id.empty()) {
        st.id = id;
        st.version = x.sc->version;
        st.worst.assign(cols.size(), std::nullopt);
        if (const auto* s = have_catalog ? cat.find(id) : nullptr) st.summary = s->summary;
      }
      st.scenarios.push_back(x.sc->id);
      for (std::size_t ci = 0; ci < cols.size(); ++ci) {
        const auto* r = x.cells[ci];
        if (r && (!st.worst[ci] || verdict_severity(r->v) > verdict_severity(*st.worst[ci]))) st.worst[ci] = r->v;
      }
    }
  }
  std::vector<const statement_row*> statements;
  if (have_catalog) {
    for (auto v : {suite_version::v3_1_1, suite_version::v5})
      for (const auto& s : cat.all(v))
        if (const auto it = by_statement.find(s.id); it != by_statement.end()) statements.push_back(&it->second);
  }
  for (const auto& [id, st] : by_statement)
    if (std::find(statements.begin(), statements.end(), &st) == statements.end()) statements.push_back(&st);

  std::error_code ec;
  std::filesystem::create_directories(req.out_dir, ec);
  if (ec) {
    err << "mqttspec: cannot create " << req.out_dir.string() << ": " << ec.message() << "\n";
    return 2;
  }

  // --- compare.html ---------------------------------------------------------------------------
  std::ostringstream h;
  write_page_head(h);
  h << "<h1>mqttspec: " << cols.size() << (cols.size() == 1 ? " broker" : " brokers") << " compared</h1>\n";
  h << "<p><output id=\"selftest\"></output></p>\n";
  h << "<h2>Totals</h2>\n<table id=\"totals\"><thead><tr><th>broker</th><th>target</th><th>started</th>";
  for (auto v : all_verdicts) h << "<th class=\"v-" << to_string(v) << "\">" << to_string(v) << "</th>";
  h << "<th>total</th><th>findings</th><th>statements failed</th></tr></thead><tbody>\n";
  for (std::size_t ci = 0; ci < cols.size(); ++ci) {
    const auto& s = cols[ci].run->summary;
    const auto counts = s.counts();
    std::size_t failed_statements = 0;
    for (const auto* st : statements)
      if (st->worst[ci] && (*st->worst[ci] == verdict::fail || *st->worst[ci] == verdict::error)) ++failed_statements;
    h << "<tr><td><a href=\"#broker" << ci << "\">" << esc(cols[ci].name) << "</a></td><td>" << esc(s.target)
      << (s.strict ? " (strict)" : "") << "</td><td>" << esc(s.started_at) << "</td>";
    for (auto v : all_verdicts) h << "<td>" << (counts.count(v) ? counts.at(v) : 0) << "</td>";
    h << "<td>" << s.results.size() << "</td><td>" << cols[ci].findings << "</td><td>" << failed_statements
      << "</td></tr>\n";
  }
  h << "</tbody></table>\n";

  h << "<div id=\"filters\">Show rows with: ";
  for (auto v : all_verdicts)
    h << "<label class=\"v-" << to_string(v) << "\"><input type=\"checkbox\" class=\"verdict\" value=\"" << to_string(v)
      << "\" checked> " << to_string(v) << "</label>";
  h << "<label class=\"v-missing\"><input type=\"checkbox\" class=\"verdict\" value=\"missing\" checked> missing</label>"
    << " <label><input type=\"checkbox\" id=\"filter-differ\"> only where brokers differ</label>"
    << " <input type=\"search\" id=\"filter-text\" placeholder=\"id, title or statement\" size=\"28\">"
    << " <button type=\"button\" id=\"filter-reset\">reset</button></div>\n";

  auto header_cells = [&](std::ostream& o) {
    for (std::size_t ci = 0; ci < cols.size(); ++ci) o << "<th>" << esc(cols[ci].name) << "</th>";
  };
  h << "<h2>Scenarios</h2>\n<p id=\"scenarios-shown\"></p>\n<table id=\"scenarios\"><thead><tr><th>scenario</th>";
  header_cells(h);
  h << "<th>statements</th></tr></thead><tbody>\n";
  std::string group;
  for (const auto& x : rows) {
    const auto& sc = *x.sc;
    const auto g = std::string(display_name(sc.version)) + " " + sc.section;
    if (g != group) {
      group = g;
      h << "<tr class=\"group\"><th class=\"sec\" colspan=\"" << cols.size() + 2 << "\">MQTT " << esc(display_name(sc.version))
        << " §" << esc(sc.section) << "</th></tr>\n";
    }
    std::set<std::string> vs;
    for (const auto* c : x.cells) vs.insert(cell_text(c));
    std::string verdicts, text = sc.id + " " + sc.title;
    for (const auto& v : vs) verdicts += (verdicts.empty() ? "" : " ") + v;
    for (const auto& st : sc.statements) text += " " + st;
    h << "<tr data-id=\"" << esc(sc.id) << "\" data-verdicts=\"" << verdicts << "\" data-differ=\"" << (x.differ() ? 1 : 0)
      << "\" data-text=\"" << esc(lower(text)) << "\"><td><b>" << esc(sc.id) << "</b><br><span class=\"title\">"
      << esc(sc.title) << "</span></td>";
    for (std::size_t ci = 0; ci < cols.size(); ++ci) {
      const auto* c = x.cells[ci];
      h << "<td class=\"" << cell_class(c) << "\">";
      if (has_details(c))
        h << "<a class=\"cell\" href=\"#" << esc(detail_id(ci, sc.id)) << "\">" << cell_text(c) << "</a>";
      else
        h << cell_text(c);
      h << "</td>";
    }
    h << "<td>";
    for (const auto& st : sc.statements) h << esc(st) << " ";
    h << "</td></tr>\n";
  }
  h << "</tbody></table>\n";

  h << "<h2>Statements</h2>\n<p>The worst verdict each broker got on the scenarios that check a statement.</p>\n"
    << "<p id=\"statements-shown\"></p>\n<table id=\"statements\"><thead><tr><th>statement</th>";
  header_cells(h);
  h << "<th>scenarios</th><th>summary</th></tr></thead><tbody>\n";
  std::optional<suite_version> st_group;
  for (const auto* st : statements) {
    if (st_group != st->version) {
      st_group = st->version;
      h << "<tr class=\"group\"><th class=\"sec\" colspan=\"" << cols.size() + 3 << "\">MQTT "
        << esc(display_name(st->version)) << "</th></tr>\n";
    }
    std::set<std::string> vs;
    for (const auto& w : st->worst) vs.insert(w ? std::string(to_string(*w)) : "missing");
    std::string verdicts;
    for (const auto& v : vs) verdicts += (verdicts.empty() ? "" : " ") + v;
    std::string text = st->id + " " + st->summary;
    for (const auto& s : st->scenarios) text += " " + s;
    h << "<tr data-id=\"" << esc(st->id) << "\" data-verdicts=\"" << verdicts << "\" data-differ=\""
      << (vs.size() > 1 ? 1 : 0) << "\" data-text=\"" << esc(lower(text)) << "\"><td>" << esc(st->id) << "</td>";
    for (const auto& w : st->worst)
      h << "<td class=\"v-" << (w ? std::string(to_string(*w)) : "missing") << "\">"
        << (w ? std::string(to_string(*w)) : "missing") << "</td>";
    h << "<td>" << st->scenarios.size() << "</td><td>" << esc(st->summary) << "</td></tr>\n";
  }
  h << "</tbody></table>\n";

  h << "<h2>Failure details</h2>\n";
  for (std::size_t ci = 0; ci < cols.size(); ++ci) {
    const auto& s = cols[ci].run->summary;
    h << "<section id=\"broker" << ci << "\"><h3>" << esc(cols[ci].name) << "</h3>\n<p>Target: " << esc(s.target)
      << "; started " << esc(s.started_at) << "; " << static_cast<long>(s.wall_ms) << " ms"
      << (s.strict ? "; strict" : "") << "; from <code>" << esc(cols[ci].run->file.string()) << "</code></p>\n";
    for (const auto& [v, caps] : s.capabilities) {
      h << "<p>MQTT " << display_name(v) << " capabilities (" << esc(caps.source) << "):";
      for (const auto& t : caps.tags) h << " <code>" << esc(t) << "</code>";
      h << "</p>\n";
    }
    for (const auto& n : s.notes) h << "<p>Note: " << esc(n) << "</p>\n";
    bool any = false;
    for (const auto& r : s.results) {
      if (!has_details(&r)) continue;
      any = true;
      const auto& sc = *r.sc;
      h << "<details id=\"" << esc(detail_id(ci, sc.id)) << "\"><summary class=\"v-" << to_string(r.v) << "\"><b>"
        << esc(sc.id) << "</b> [" << to_string(r.v) << "] " << esc(sc.title) << "</summary>\n<table>";
      h << "<tr><th>statements</th><td>";
      for (const auto& id : sc.statements) h << esc(id) << " ";
      h << "(" << to_string(sc.lvl) << ")</td></tr>";
      if (!r.broken.empty()) h << "<tr><th>broken</th><td>" << esc(r.broken) << "</td></tr>";
      h << "<tr><th>requirement</th><td>" << esc(sc.requirement) << "</td></tr>";
      if (!r.expected.empty()) h << "<tr><th>expected</th><td>" << esc(r.expected) << "</td></tr>";
      if (!r.observed.empty()) h << "<tr><th>observed</th><td>" << esc(r.observed) << "</td></tr>";
      if (!r.message.empty()) h << "<tr><th>message</th><td>" << esc(r.message) << "</td></tr>";
      for (const auto& f : r.findings) h << "<tr><th>finding</th><td>" << esc(f) << "</td></tr>";
      h << "<tr><th>rerun</th><td><code>" << esc(rerun_command(s, sc)) << "</code></td></tr></table>\n";
      if (!r.log.empty()) h << "<pre>" << esc(wire_log_text(r)) << "</pre>";
      h << "</details>\n";
    }
    if (!any) h << "<p>No failures, errors or warnings.</p>\n";
    h << "</section>\n";
  }
  h << page_script << "</body></html>\n";

  // --- compare.md ---------------------------------------------------------------------------
  std::ostringstream m;
  m << "# mqttspec: " << cols.size() << (cols.size() == 1 ? " broker" : " brokers") << " compared\n\n| broker | target |";
  for (auto v : all_verdicts) m << " " << to_string(v) << " |";
  m << " total | findings |\n|---|---|";
  for (std::size_t i = 0; i < std::size(all_verdicts); ++i) m << "---:|";
  m << "---:|---:|\n";
  for (const auto& c : cols) {
    const auto counts = c.run->summary.counts();
    m << "| " << md(c.name) << " | " << md(c.run->summary.target) << " |";
    for (auto v : all_verdicts) m << " " << (counts.count(v) ? counts.at(v) : 0) << " |";
    m << " " << c.run->summary.results.size() << " | " << c.findings << " |\n";
  }
  auto md_verdict = [](const std::string& v) {
    return v == "pass" || v == "unsupported" || v == "missing" ? v : "**" + v + "**";
  };
  m << "\n## Scenarios\n\nVerdicts other than pass, unsupported and missing are in bold; compare.html has their details.\n\n"
    << "| section | scenario |";
  for (const auto& c : cols) m << " " << md(c.name) << " |";
  m << "\n|---|---|";
  for (std::size_t i = 0; i < cols.size(); ++i) m << "---|";
  m << "\n";
  group.clear();
  for (const auto& x : rows) {
    const auto g = std::string(display_name(x.sc->version)) + " " + x.sc->section;
    m << "| " << (g != group ? md(g) : "") << " | " << md(x.sc->id) << " |";
    group = g;
    for (const auto* c : x.cells) m << " " << md_verdict(cell_text(c)) << " |";
    m << "\n";
  }
  m << "\n## Statements\n\nThe worst verdict each broker got on the scenarios that check a statement.\n\n| statement |";
  for (const auto& c : cols) m << " " << md(c.name) << " |";
  m << " summary |\n|---|";
  for (std::size_t i = 0; i < cols.size(); ++i) m << "---|";
  m << "---|\n";
  for (const auto* st : statements) {
    m << "| " << md(st->id) << " |";
    for (const auto& w : st->worst) m << " " << md_verdict(w ? std::string(to_string(*w)) : "missing") << " |";
    m << " " << md(st->summary, 100) << " |\n";
  }

  for (const auto& [name, text] : {std::pair{"compare.html", h.str()}, std::pair{"compare.md", m.str()}}) {
    std::ofstream f(req.out_dir / name, std::ios::binary);
    f << text;
    f.close();
    if (!f) {
      err << "mqttspec: cannot write " << (req.out_dir / name).string() << "\n";
      return 2;
    }
  }
  out << "compared " << cols.size() << " runs, " << rows.size() << " scenarios, " << statements.size()
      << " statements: " << (req.out_dir / "compare.html").string() << ", compare.md\n";
  return 0;
}

}  // namespace mqttspec::conformance
