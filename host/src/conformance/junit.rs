//! JUnit XML for CI systems: one test suite per plugin, one case per check.

use super::Report;

fn escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as a JUnit XML document: one `<testsuite>` named after the
/// plugin, one `<testcase>` per check, failures with their detail.
pub fn render(report: &Report) -> String {
    let failures = report.checks.iter().filter(|c| !c.passed).count();
    let total: f64 = report.checks.iter().map(|c| c.duration.as_secs_f64()).sum();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"kith test {}\" tests=\"{}\" failures=\"{failures}\" time=\"{total:.3}\">\n",
        escape(&report.plugin),
        report.checks.len()
    );
    for c in &report.checks {
        xml += &format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            escape(&report.plugin),
            escape(&c.name),
            c.duration.as_secs_f64()
        );
        if c.passed {
            xml += &format!("<system-out>{}</system-out>", escape(&c.detail));
        } else {
            let first = c.detail.lines().next().unwrap_or("");
            xml += &format!(
                "<failure message=\"{}\">{}</failure>",
                escape(first),
                escape(&c.detail)
            );
        }
        xml += "</testcase>\n";
    }
    xml += "  </testsuite>\n</testsuites>\n";
    xml
}
