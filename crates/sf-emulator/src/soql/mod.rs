//! SOQL: lexer, parser and the error messages Salesforce gives.

pub mod ast;
pub mod lexer;
pub mod parser;

pub use parser::parse;

/// A query error: `MALFORMED_QUERY`, `INVALID_FIELD` or `INVALID_TYPE`, with
/// the message laid out as Salesforce does (the query line, a caret, the
/// row and column, the reason).
#[derive(Debug, Clone, PartialEq)]
pub struct SoqlError {
    pub code: &'static str,
    pub message: String,
}

impl SoqlError {
    pub fn at(code: &'static str, src: &str, pos: usize, reason: impl AsRef<str>) -> SoqlError {
        let pos = pos.min(src.len());
        let before = &src[..pos];
        let row = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let line_end = src[line_start..]
            .find('\n')
            .map(|i| line_start + i)
            .unwrap_or(src.len());
        let col = src[line_start..pos].chars().count() + 1;
        let caret = format!("{}^", " ".repeat(col - 1));
        SoqlError {
            code,
            message: format!(
                "\n{}\n{}\nERROR at Row:{}:Column:{}\n{}",
                &src[line_start..line_end],
                caret,
                row,
                col,
                reason.as_ref()
            ),
        }
    }
    pub fn malformed(src: &str, pos: usize, reason: impl AsRef<str>) -> SoqlError {
        SoqlError::at("MALFORMED_QUERY", src, pos, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::ast::*;
    use super::*;

    #[test]
    fn parses_the_subset() {
        let q = parse(
            "select Id, Account.Name, Owner.Email FROM Contact WHERE (LastName LIKE 'Sm%' OR Email != null) \
             AND NOT CreatedDate < LAST_N_DAYS:30 AND Id NOT IN ('003', '004') AND Amount >= -1.5e3 \
             ORDER BY LastName DESC NULLS LAST, Id LIMIT 10 OFFSET 5",
        )
        .unwrap();
        assert_eq!(q.from, "Contact");
        assert_eq!(q.select.len(), 3);
        assert_eq!(q.limit, Some(10));
        assert_eq!(q.offset, Some(5));
        assert_eq!(q.order_by.len(), 2);
        assert!(q.order_by[0].desc && q.order_by[0].nulls_last == Some(true));
        let count = parse("SELECT COUNT() FROM Account WHERE Name = 'O\\'Brien'").unwrap();
        assert_eq!(count.select, vec![SelectItem::CountAll]);
        match count.where_.unwrap() {
            Cond::Cmp {
                value: Literal::Str(s),
                ..
            } => assert_eq!(s, "O'Brien"),
            other => panic!("{other:?}"),
        }
        let dt = parse("SELECT Id FROM Account WHERE SystemModstamp > 2024-01-31T09:15:00Z AND CloseDate = 2024-01-31").unwrap();
        assert!(format!("{:?}", dt.where_).contains("DateTime(\"2024-01-31T09:15:00Z\")"));
    }

    #[test]
    fn malformed_messages_point_at_the_token() {
        let e = parse("SELEC Id FROM Account").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert!(
            e.message.contains("ERROR at Row:1:Column:1"),
            "{}",
            e.message
        );
        assert!(e.message.contains("unexpected token: 'SELEC'"));
        let e = parse("SELECT Id FROM Account WHERE").unwrap_err();
        assert!(
            e.message.contains("unexpected token: '<EOF>'"),
            "{}",
            e.message
        );
        let e = parse("SELECT Id FROM Account WHERE Name = 'open").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
    }

    #[test]
    fn deep_nesting_is_refused_and_long_chains_stay_flat() {
        for deep in [
            format!(
                "SELECT Id FROM Account WHERE {}Name = 'a'{}",
                "(".repeat(20_000),
                ")".repeat(20_000)
            ),
            format!(
                "SELECT Id FROM Account WHERE {}Name = 'a'",
                "NOT ".repeat(20_000)
            ),
            format!("SELECT Id FROM Account WHERE {}", "(".repeat(50_000)),
        ] {
            let e = parse(&deep).unwrap_err();
            assert_eq!(
                e.code,
                "QUERY_TOO_COMPLICATED",
                "{}",
                &e.message[..200.min(e.message.len())]
            );
        }
        let nested_ok = format!(
            "SELECT Id FROM Account WHERE {}Name = 'a'{}",
            "(".repeat(parser::MAX_NESTING),
            ")".repeat(parser::MAX_NESTING)
        );
        assert!(parse(&nested_ok).is_ok());
        let chain = (0..5_000)
            .map(|i| format!("Name != 'n{i}'"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let q = parse(&format!("SELECT Id FROM Account WHERE {chain}")).unwrap();
        match q.where_.unwrap() {
            Cond::And(all) => assert_eq!(all.len(), 5_000),
            other => panic!("{other:?}"),
        }
        let long = format!(
            "SELECT Id FROM Account WHERE Name = '{}'",
            "x".repeat(parser::MAX_LENGTH)
        );
        let e = parse(&long).unwrap_err();
        assert!(e.message.contains("too long"), "{}", e.message);
    }
}
