//! The history's HTML page: the rule, the table of step changes and provenance changes,
//! every chart inlined (each also linked as its SVG file beside the page), and the list
//! of entries. One file with no scripts and no external resources: it works opened from
//! disk and as a CI artifact.

use std::fmt::Write as _;

use super::chart::Chart;
use super::History;
use crate::compare::stats::{Rule, Verdict};

const STYLE: &str = "body{font-family:sans-serif;max-width:1020px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;\
text-align:left;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}\
tr.slower td.verdict{color:#d62728;font-weight:bold}tr.faster td.verdict{color:#2ca02c;font-weight:bold}\
tr.boundary td{background:#f3f3f3;font-style:italic}figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}\
figcaption{font-size:13px;color:#555}";

/// The whole page.
pub fn render(history: &History, charts: &[Chart]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">");
    let _ = writeln!(s, "<title>matmul benchmark history</title>\n<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(s, "<h1>matmul benchmark history</h1>");
    intro(&mut s, history);
    changes(&mut s, history, charts);
    let _ = writeln!(s, "<h2>GFLOP/s by commit</h2>");
    for c in charts {
        let _ = writeln!(
            s,
            "<figure id=\"{}\">\n{}\n<figcaption>{}: {} point(s) (<a href=\"{}\">SVG</a>)</figcaption>\n</figure>",
            escape(figure_id(c)),
            strip_xml_declaration(&c.svg),
            escape(&c.title),
            c.points.len(),
            escape(&c.file)
        );
    }
    entries(&mut s, history);
    let _ = writeln!(s, "</body>\n</html>");
    s
}

/// What was read and how it was judged.
fn intro(s: &mut String, history: &History) {
    let rule = Rule::default();
    let span = match (history.entries.first(), history.entries.last()) {
        (Some(a), Some(b)) => format!(
            "from {} ({}) to {} ({})",
            escape(a.short_commit()),
            date(a.run.provenance.commit_time),
            escape(b.short_commit()),
            date(b.run.provenance.commit_time)
        ),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "<p>{} commits {span}, {} tracked points. Each value is the median of the per-process median \
         seconds per call, as GFLOP/s. Between consecutive commits every point is judged by the rule of \
         <code>cargo xtask compare</code>: a step is a time ratio beyond ×{:.2} (either way) with a \
         Mann–Whitney p below {} over the process medians. Slower steps are ringed red, faster ones green. \
         Where the runner's machine or toolchain changed (dashed line) nothing is judged: the times before \
         and after do not compare.</p>",
        history.entries.len(),
        history.points.len(),
        rule.factor,
        rule.alpha
    );
}

/// The table of steps and provenance changes, in commit order; each point links to its chart.
fn changes(s: &mut String, history: &History, charts: &[Chart]) {
    let _ = writeln!(
        s,
        "<h2>Step changes</h2>\n<p>{} step(s), {} machine/toolchain change(s).</p>",
        history.steps.len(),
        history.boundaries.len()
    );
    if history.steps.is_empty() && history.boundaries.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "<table>\n<tr><th>commit</th><th>subject</th><th>point</th><th>time ratio</th><th>p</th><th>verdict</th></tr>"
    );
    for index in 1..history.entries.len() {
        let e = &history.entries[index];
        let commit =
            format!("<td><code>{}</code></td><td>{}</td>", escape(e.short_commit()), escape(&e.run.provenance.subject));
        if let Some(b) = history.boundaries.iter().find(|b| b.index == index) {
            let _ = writeln!(
                s,
                "<tr class=\"boundary\">{commit}<td>all points</td><td class=\"num\">–</td><td class=\"num\">–</td>\
                 <td class=\"verdict\">machine/toolchain changed (base: the commit before, head: this one): {}</td></tr>",
                escape(&b.why.join("; "))
            );
        }
        for step in history.steps.iter().filter(|st| st.index == index) {
            let class = if step.decision.verdict == Verdict::Slower { "slower" } else { "faster" };
            let _ = writeln!(
                s,
                "<tr class=\"{class}\">{commit}<td>{}</td><td class=\"num\">{:.3}</td><td class=\"num\">{:.4}</td>\
                 <td class=\"verdict\">{} ({})</td></tr>",
                point_link(&step.point, charts),
                step.decision.ratio,
                step.decision.p,
                step.decision.verdict.as_str(),
                step.sustained_text()
            );
        }
    }
    let _ = writeln!(s, "</table>");
}

/// Every entry: its commit, date, subject, toolchain, machine and file.
fn entries(s: &mut String, history: &History) {
    let _ = writeln!(s, "<h2>Entries</h2>\n<details><summary>{} files, oldest first</summary>", history.entries.len());
    let _ = writeln!(s, "<table>\n<tr><th>#</th><th>commit</th><th>date</th><th>subject</th><th>rustc</th><th>machine</th><th>file</th></tr>");
    for (i, e) in history.entries.iter().enumerate() {
        let p = &e.run.provenance;
        let file = e.file.file_name().map_or(String::new(), |f| f.to_string_lossy().into_owned());
        let _ = writeln!(
            s,
            "<tr><td class=\"num\">{i}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}, {} cores</td><td>{}</td></tr>",
            escape(&p.commit),
            date(p.commit_time),
            escape(&p.subject),
            escape(&p.rustc),
            escape(&p.machine.cpu),
            p.machine.cores,
            escape(&file)
        );
    }
    let _ = writeln!(s, "</table>\n</details>");
}

/// The point's label, linked to the figure that draws it.
fn point_link(point: &str, charts: &[Chart]) -> String {
    match charts.iter().find(|c| c.points.iter().any(|p| p == point)) {
        Some(c) => format!("<a href=\"#{}\">{}</a>", escape(figure_id(c)), escape(point)),
        None => escape(point),
    }
}

/// The `id` of a chart's figure: its file name without `.svg`.
fn figure_id(chart: &Chart) -> &str {
    chart.file.trim_end_matches(".svg")
}

/// `text` with HTML's special characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document as an element to inline: without an `<?xml …?>` line, if it has one.
fn strip_xml_declaration(svg: &str) -> &str {
    match svg.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(svg, |(_, body)| body.trim_start()),
        None => svg,
    }
}

/// `YYYY-MM-DD HH:MM UTC` for seconds since the Unix epoch.
pub fn date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::super::chart::charts;
    use super::super::fixture::series;
    use super::*;

    #[test]
    fn the_page_holds_every_chart_and_the_step_table() {
        let mut entries = series(6, |i, label| if i >= 2 && label.starts_with("simd f64") { 1.15 } else { 1.0 });
        for e in &mut entries[4..] {
            e.run.provenance.rustc = "rustc 1.96.0".into();
        }
        let h = History::new(entries, Rule::default());
        let charts = charts(&h).unwrap();
        let html = render(&h, &charts);
        assert_eq!(html.matches("<svg").count(), charts.len());
        for c in &charts {
            assert!(html.contains(&format!("<a href=\"{}\">SVG</a>", c.file)), "{}", c.file);
        }
        for p in &h.points {
            assert!(charts.iter().any(|c| c.points.contains(p)), "{p} has no chart");
        }
        // The step rows: commit 3 (index 2), its subject escaped, each simd f64 point.
        let slower_rows = html.matches("<tr class=\"slower\"><td><code>0000003</code></td>").count();
        assert_eq!(slower_rows, h.points.iter().filter(|p| p.starts_with("simd f64")).count());
        assert!(html.contains("commit number 3 &lt;of the series&gt;"));
        assert!(
            html.contains("<td><a href=\"#simd-f64-t1\">simd f64 rrr 256x256x256 t1</a></td><td class=\"num\">1.1"),
            "{html}"
        );
        assert!(html.contains("<figure id=\"simd-f64-t1\">"));
        assert!(html.contains("SLOWER"));
        // The toolchain change at index 4 is a boundary row, not a step.
        assert!(html.contains("<tr class=\"boundary\"><td><code>0000005</code></td>"));
        assert!(html.contains(
            "machine/toolchain changed (base: the commit before, head: this one): rustc: &quot;rustc 1.95.0&quot;"
        ));
        assert!(!html.contains("<tr class=\"faster\">"));
        assert!(html.contains("6 commits from 0000001 (2023-11-14 22:13 UTC)"), "{html}");
    }

    #[test]
    fn dates_and_escapes() {
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
        assert_eq!(date(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(date(1_796_064_634), "2026-11-30 18:50 UTC");
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(strip_xml_declaration("<?xml version=\"1.0\"?>\n<svg/>"), "<svg/>");
        assert_eq!(strip_xml_declaration("<svg/>"), "<svg/>");
    }
}
