//! SOSL for simple FIND: `FIND {terms} [IN ... FIELDS] [RETURNING Obj(fields
//! [WHERE ...] [LIMIT n]), ...] [LIMIT n]`. Each RETURNING entry is run as
//! SOQL, then kept where a text field matches every term.

use crate::org::Org;
use crate::query::{Plan, render_row};

const SEARCHABLE: &[&str] = &[
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "Case",
    "Campaign",
    "Product2",
];

/// Why a search cannot run: Salesforce's error code and message (always
/// an HTTP 400).
#[derive(Debug, Clone)]
pub struct SearchError {
    pub code: &'static str,
    pub message: String,
}

fn error<T>(message: &str) -> Result<T, SearchError> {
    Err(SearchError {
        code: "MALFORMED_SEARCH",
        message: message.to_string(),
    })
}

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

fn keyword_pos(s: &str, kw: &str) -> Option<usize> {
    let upper = s.to_ascii_uppercase();
    let mut from = 0;
    while let Some(i) = upper[from..].find(kw) {
        let at = from + i;
        let before_ok = at == 0 || !upper.as_bytes()[at - 1].is_ascii_alphanumeric();
        let after = at + kw.len();
        let after_ok = after >= upper.len() || !upper.as_bytes()[after].is_ascii_alphanumeric();
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + kw.len();
    }
    None
}

fn term_matches(term: &str, text: &str) -> bool {
    // '*' matches any run of characters, '?' one; plain terms match words.
    let t = term.to_lowercase();
    let text = text.to_lowercase();
    if !t.contains('*') && !t.contains('?') {
        return text.contains(&t);
    }
    let pattern: String = t
        .chars()
        .map(|c| match c {
            '*' => '%',
            '?' => '_',
            c => c,
        })
        .collect();
    text.split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.')
        .any(|w| like(&pattern, w))
        || like(&format!("%{pattern}%"), &text)
}

fn like(p: &str, t: &str) -> bool {
    let p: Vec<char> = p.chars().collect();
    let t: Vec<char> = t.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

/// Runs a search: the JSON body Salesforce answers (`searchRecords`).
pub fn search(org: &Org, sosl: &str, version: &str) -> Result<String, SearchError> {
    let s = sosl.trim();
    if !s.to_ascii_uppercase().starts_with("FIND") {
        return error(&format!(
            "unexpected token: '{}'",
            s.split_whitespace().next().unwrap_or("<EOF>")
        ));
    }
    let rest = s[4..].trim_start();
    let (open, close) = match rest.chars().next() {
        Some('{') => ('{', '}'),
        Some('\'') => ('\'', '\''),
        _ => return error("Search term must be enclosed in braces: FIND {term}"),
    };
    let Some(end) = rest[1..].find(close) else {
        return error("Search term is missing its closing brace");
    };
    let _ = open;
    let terms_text = &rest[1..1 + end];
    let terms: Vec<String> = terms_text
        .split('"')
        .enumerate()
        .flat_map(|(i, part)| {
            if i % 2 == 1 {
                vec![part.to_string()]
            } else {
                part.split_whitespace().map(str::to_string).collect()
            }
        })
        .filter(|t| !t.is_empty() && !["AND", "OR"].contains(&t.as_str()))
        .collect();
    if terms
        .iter()
        .all(|t| t.trim_matches(|c| c == '*' || c == '?').chars().count() < 2)
    {
        return error("search term must be longer than one character");
    }
    let mut tail = rest[1 + end + 1..].trim().to_string();
    let mut overall_limit = usize::MAX;
    let last_paren = tail.rfind(')').unwrap_or(0);
    if let Some(i) = keyword_pos(&tail[last_paren..], "LIMIT").map(|i| i + last_paren) {
        overall_limit = tail[i + 5..].trim().parse().unwrap_or(usize::MAX);
        tail.truncate(i);
    }
    let returning: Vec<(String, String)> = match keyword_pos(&tail, "RETURNING") {
        Some(i) => split_top(&tail[i + 9..])
            .into_iter()
            .map(|entry| {
                let entry = entry.trim();
                match entry.find('(') {
                    Some(p) => (
                        entry[..p].trim().to_string(),
                        entry[p + 1..entry.rfind(')').unwrap_or(entry.len())]
                            .trim()
                            .to_string(),
                    ),
                    None => (entry.to_string(), "Id".to_string()),
                }
            })
            .collect(),
        None => SEARCHABLE
            .iter()
            .map(|o| (o.to_string(), "Id".to_string()))
            .collect(),
    };
    let mut out = String::from("{\"searchRecords\":[");
    let mut count = 0;
    for (obj_name, inner) in returning {
        let Some(obj) = org.object(&obj_name) else {
            return Err(SearchError {
                code: "INVALID_TYPE",
                message: format!("sObject type '{obj_name}' is not supported."),
            });
        };
        let clause = ["WHERE", "ORDER", "LIMIT"]
            .iter()
            .filter_map(|k| keyword_pos(&inner, k))
            .min()
            .unwrap_or(inner.len());
        let (fields, rest) = inner.split_at(clause);
        // Keep LIMIT for after term filtering.
        let (rest, limit) = match keyword_pos(rest, "LIMIT") {
            Some(i) => (
                rest[..i].to_string(),
                rest[i + 5..].trim().parse::<usize>().unwrap_or(usize::MAX),
            ),
            None => (rest.to_string(), usize::MAX),
        };
        let fields = if fields.trim().is_empty() {
            "Id"
        } else {
            fields.trim()
        };
        let soql = format!("SELECT {fields} FROM {obj_name} {rest}");
        let plan = match Plan::compile(org, &soql) {
            Ok(p) => p,
            Err(e) => {
                return Err(SearchError {
                    code: e.code,
                    message: e.message,
                });
            }
        };
        let def = org.def(obj);
        let text_fields: Vec<usize> = def
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.ftype.is_text())
            .map(|(i, _)| i)
            .collect();
        let mut taken = 0;
        for num in plan.execute(org, false) {
            if taken >= limit || count >= overall_limit {
                break;
            }
            let rec = org.record(obj, num).expect("executed");
            let hit = terms.iter().all(|t| {
                text_fields
                    .iter()
                    .any(|&fi| rec.get(fi).as_str().is_some_and(|v| term_matches(t, v)))
            });
            if hit {
                if count > 0 {
                    out.push(',');
                }
                render_row(org, &plan, num, version, &mut out);
                taken += 1;
                count += 1;
            }
        }
    }
    out.push_str("]}");
    Ok(out)
}
