//! docs/REPORT.md lists exactly the reason codes of `ReasonCode::ALL` (the one list of codes),
//! with the same meaning and typical verdict: no undocumented code, no stale row.

use sigaudit::report::ReasonCode;

const DOC: &str = include_str!("../docs/REPORT.md");

/// The rows of the "Reason codes" table as docs/REPORT.md must hold them.
fn expected_rows() -> Vec<String> {
    ReasonCode::ALL
        .iter()
        .map(|c| format!("| `{}` | {} | {} |", c.as_str(), c.meaning(), c.typical_verdict()))
        .collect()
}

/// The table rows (lines starting with `| \``) of the section headed `## Reason codes`.
fn documented_rows() -> Vec<String> {
    let start = DOC.find("\n## Reason codes\n").expect("docs/REPORT.md has a \"## Reason codes\" section");
    let section = &DOC[start + 1..];
    let end = section[3..].find("\n## ").map(|i| i + 3).unwrap_or(section.len());
    section[..end].lines().filter(|l| l.starts_with("| `")).map(str::to_string).collect()
}

#[test]
fn the_docs_list_exactly_the_codes_of_the_code_list() {
    let expected = expected_rows();
    let documented = documented_rows();
    let code_of = |row: &str| row.split('`').nth(1).unwrap_or_default().to_string();
    let known: Vec<String> = ReasonCode::ALL.iter().map(|c| c.as_str().to_string()).collect();
    let listed: Vec<String> = documented.iter().map(|r| code_of(r)).collect();
    let undocumented: Vec<&String> = known.iter().filter(|c| !listed.contains(c)).collect();
    let stale: Vec<&String> = listed.iter().filter(|c| !known.contains(c)).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty() && expected == documented,
        "docs/REPORT.md \"Reason codes\" is out of date (undocumented: {undocumented:?}, stale: {stale:?}); \
         its rows must read, in this order:\n{}",
        expected.join("\n")
    );
}

#[test]
fn the_report_tables_name_the_field() {
    assert!(DOC.contains("`verification.reasonCodes`"), "SignatureReport table");
    assert!(DOC.contains("`reasonCodes`"), "filesystem table");
    let readme = include_str!("../README.md");
    assert!(readme.contains("reasonCodes"), "README mentions reasonCodes");
}
